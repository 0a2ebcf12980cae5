using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// The key layouts of the engine's four named databases, in one place so that every reader and writer agrees.
/// <para>
/// <b>data</b>: <c>hash(8, big-endian) ‖ key</c>, where hash is the key's XXH64
/// (<see cref="Core.Partitioning.KeyPartitioner.HashKey"/>). LMDB orders keys bytewise, and a big-endian hash sorts
/// like the number, so cursor order is hash order: a partition (a hash range) and a scan resumed from a hash are one
/// seek and a forward walk, and keys of equal hash are adjacent.
/// </para>
/// <para>
/// LMDB keys are at most 511 bytes (its default build), and Redis keys can be far longer. A key longer than
/// <see cref="InlineKeyLimit"/> is stored under its <b>long form</b>: <c>hash(8) ‖ the key's first
/// <see cref="LongKeyPrefixLength"/> bytes ‖ SHA-256(key)(32)</c>, exactly <see cref="LongDataKeyLength"/> bytes, one
/// more than the longest inline data key, so the two forms can never be confused; its record carries the whole key
/// (<see cref="LmdbRecordCodec"/>). Only scans and partition reads need that key back; point reads compare it.
/// </para>
/// <para>
/// <b>expiry</b>: <c>expiresAt(8, big-endian, sign bit flipped) ‖ data key</c>, empty value, one entry per record that
/// has an expiry. Flipping the sign bit makes the signed time sort like the number, so the expired keys are a prefix
/// of the database and the sweep never reads live data. Carrying the data key means a swept entry names its record.
/// At most 8 + <see cref="LongDataKeyLength"/> = <see cref="MaxStoredKeyLength"/> bytes.
/// </para>
/// <para>
/// <b>elements</b>: <c>hash(8, big-endian) ‖ key part ‖ name part</c>, at most <see cref="MaxStoredKeyLength"/> bytes.
/// The <b>element prefix</b> <c>hash ‖ key part</c> names one key: the key part is a length byte and the key, for keys
/// of up to <see cref="ElementInlineKeyLimit"/> bytes, or 0xFF and the key's SHA-256 for longer ones (its elements do
/// not carry the key back: scans are per key, and repeating a long key in every element would cost more than a
/// SHA-256 collision risks). A key part says where it ends, so no key's prefix starts another's (key <c>a</c> and key
/// <c>ab</c> differ in the length byte): a key's elements are exactly the entries that start with its prefix, one
/// contiguous range. Ranges follow hash order; keys that share a hash sort by their key parts.
/// </para>
/// <para>
/// The name part is the element's name when the whole element key stays under <see cref="MaxStoredKeyLength"/>
/// (names shorter than <see cref="LongNameLength"/>, which depends on the prefix). A longer name takes the long form,
/// exactly <see cref="LongNameLength"/> bytes: the name's first <see cref="LongNamePrefixLength"/> bytes, then its
/// SHA-256; the entry's value then carries the whole name (<see cref="LmdbElementCodec"/>). Entries stay in name order
/// except among names longer than <see cref="LongNamePrefixLength"/> that share those first bytes, which are adjacent
/// (a <b>run</b>) and are sorted by their whole names when read.
/// </para>
/// <para><b>meta</b>: a few fixed ASCII keys (<see cref="LmdbMetadata"/>).</para>
/// </summary>
internal static class LmdbKeys
{
    public const int HashLength = sizeof(ulong);

    public const int ExpiryLength = sizeof(long);

    /// <summary>The longest user key stored inline (data key = hash ‖ key).</summary>
    public const int InlineKeyLimit = 480;

    /// <summary>The bytes of a long key kept in its long-form data key, before the digest.</summary>
    public const int LongKeyPrefixLength = InlineKeyLimit + 1 - DigestLength;

    /// <summary>Every long-form data key has exactly this length; inline data keys are shorter.</summary>
    public const int LongDataKeyLength = HashLength + InlineKeyLimit + 1;

    /// <summary>The longest key the engine gives LMDB (an expiry entry of a long key, an element with a long name); LMDB
    /// must accept it.</summary>
    public const int MaxStoredKeyLength = ExpiryLength + LongDataKeyLength;

    /// <summary>The longest key stored inline in an element prefix (after a length byte); longer keys are named by their SHA-256.</summary>
    public const int ElementInlineKeyLimit = 254;

    /// <summary>Longest data key built on the stack; every data key fits.</summary>
    public const int StackKeyLimit = LongDataKeyLength;

    public const string DataDatabase = "data";

    public const string ExpiryDatabase = "expiry";

    public const string MetaDatabase = "meta";

    public const string ElementDatabase = "elements";

    /// <summary>Index entries, keyed as elements are.</summary>
    public const string IndexDatabase = "index";

    private const int DigestLength = SHA256.HashSizeInBytes;

    /// <summary>The key part's first byte for a key named by its SHA-256 (inline key lengths stop below it).</summary>
    private const byte DigestKeyMarker = 0xFF;

    private const ulong SignBit = 0x8000000000000000UL;

    /// <summary>Whether <paramref name="keyLength"/> bytes of user key take the long form.</summary>
    public static bool IsLong(int keyLength) => keyLength > InlineKeyLimit;

    /// <summary>Whether a stored data key is a long form (its record then carries the key).</summary>
    public static bool IsLongDataKey(ReadOnlySpan<byte> dataKey) => dataKey.Length == LongDataKeyLength;

    public static int DataKeyLength(int keyLength) => IsLong(keyLength) ? LongDataKeyLength : HashLength + keyLength;

    /// <summary>Writes the data key of <paramref name="key"/> (hash <paramref name="hash"/>) into <paramref name="destination"/>, which must be exactly <see cref="DataKeyLength"/> long.</summary>
    public static void WriteDataKey(Span<byte> destination, ulong hash, ReadOnlySpan<byte> key)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, hash);
        if (!IsLong(key.Length))
        {
            key.CopyTo(destination[HashLength..]);
            return;
        }

        key[..LongKeyPrefixLength].CopyTo(destination[HashLength..]);
        SHA256.HashData(key, destination[(HashLength + LongKeyPrefixLength)..]);
    }

    /// <summary>The smallest data key with hash <paramref name="hash"/>: where a scan or partition starts.</summary>
    public static byte[] HashPrefix(ulong hash)
    {
        byte[] prefix = new byte[HashLength];
        BinaryPrimitives.WriteUInt64BigEndian(prefix, hash);
        return prefix;
    }

    public static ulong HashOf(ReadOnlySpan<byte> dataKey) => BinaryPrimitives.ReadUInt64BigEndian(dataKey);

    /// <summary>The user key of an inline data key (a long form's key is in its record).</summary>
    public static ReadOnlySpan<byte> InlineUserKeyOf(ReadOnlySpan<byte> dataKey) => dataKey[HashLength..];

    /// <summary>The smallest key that sorts after <paramref name="key"/>: the key followed by a zero byte.</summary>
    public static byte[] Successor(ReadOnlySpan<byte> key)
    {
        byte[] next = new byte[key.Length + 1];
        key.CopyTo(next);
        return next;
    }

    public static int ElementPrefixLength(int keyLength) => HashLength + 1 + (keyLength <= ElementInlineKeyLimit ? keyLength : DigestLength);

    /// <summary>Writes the element prefix of <paramref name="key"/> (hash <paramref name="hash"/>) into <paramref name="destination"/>, which must be exactly <see cref="ElementPrefixLength"/> long.</summary>
    public static void WriteElementPrefix(Span<byte> destination, ulong hash, ReadOnlySpan<byte> key)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, hash);
        if (key.Length <= ElementInlineKeyLimit)
        {
            destination[HashLength] = (byte)key.Length;
            key.CopyTo(destination[(HashLength + 1)..]);
            return;
        }

        destination[HashLength] = DigestKeyMarker;
        SHA256.HashData(key, destination[(HashLength + 1)..]);
    }

    /// <summary>
    /// Writes the element prefix of the key stored under <paramref name="dataKey"/> into <paramref name="destination"/>
    /// (at least <see cref="StackKeyLimit"/> long) and returns its length, for the expiry sweep, which has only data keys.
    /// A long-form data key ends with the key's SHA-256, and its key (longer than <see cref="InlineKeyLimit"/>) is always
    /// named by it.
    /// </summary>
    public static int WriteElementPrefixOfDataKey(ReadOnlySpan<byte> dataKey, Span<byte> destination)
    {
        if (!IsLongDataKey(dataKey))
        {
            ReadOnlySpan<byte> key = InlineUserKeyOf(dataKey);
            int length = ElementPrefixLength(key.Length);
            WriteElementPrefix(destination[..length], HashOf(dataKey), key);
            return length;
        }

        dataKey[..HashLength].CopyTo(destination);
        destination[HashLength] = DigestKeyMarker;
        dataKey[^DigestLength..].CopyTo(destination[(HashLength + 1)..]);
        return HashLength + 1 + DigestLength;
    }

    /// <summary>The length of a long-form name part after a prefix of <paramref name="prefixLength"/> bytes; shorter names are stored as they are.</summary>
    public static int LongNameLength(int prefixLength) => MaxStoredKeyLength - prefixLength;

    /// <summary>How many bytes of a long name its long form keeps before the digest; longer names may sort out of order.</summary>
    public static int LongNamePrefixLength(int prefixLength) => LongNameLength(prefixLength) - DigestLength;

    public static bool IsLongName(int nameLength, int prefixLength) => nameLength >= LongNameLength(prefixLength);

    /// <summary>Whether a stored name part (what follows the prefix) is a long form, whose entry carries the name.</summary>
    public static bool IsLongNamePart(ReadOnlySpan<byte> namePart, int prefixLength) => namePart.Length == LongNameLength(prefixLength);

    public static int ElementKeyLength(int keyLength, int nameLength)
    {
        int prefixLength = ElementPrefixLength(keyLength);
        return prefixLength + (IsLongName(nameLength, prefixLength) ? LongNameLength(prefixLength) : nameLength);
    }

    /// <summary>Writes the element key of <paramref name="name"/> of <paramref name="key"/>; <paramref name="destination"/> must be exactly <see cref="ElementKeyLength"/> long.</summary>
    public static void WriteElementKey(Span<byte> destination, ulong hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> name)
    {
        int prefixLength = ElementPrefixLength(key.Length);
        WriteElementPrefix(destination[..prefixLength], hash, key);
        Span<byte> namePart = destination[prefixLength..];
        if (!IsLongName(name.Length, prefixLength))
        {
            name.CopyTo(namePart);
            return;
        }

        int kept = LongNamePrefixLength(prefixLength);
        name[..kept].CopyTo(namePart);
        SHA256.HashData(name, namePart[kept..]);
    }

    public static int ExpiryKeyLength(int dataKeyLength) => ExpiryLength + dataKeyLength;

    /// <summary>Writes the expiry-index key of a record expiring at <paramref name="expiresAtUnixMs"/>; <paramref name="destination"/> must be exactly <see cref="ExpiryKeyLength"/> long.</summary>
    public static void WriteExpiryKey(Span<byte> destination, long expiresAtUnixMs, ReadOnlySpan<byte> dataKey)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, EncodeTime(expiresAtUnixMs));
        dataKey.CopyTo(destination[ExpiryLength..]);
    }

    public static long ExpiryOf(ReadOnlySpan<byte> expiryKey) => DecodeTime(BinaryPrimitives.ReadUInt64BigEndian(expiryKey));

    public static ReadOnlySpan<byte> DataKeyOfExpiryKey(ReadOnlySpan<byte> expiryKey) => expiryKey[ExpiryLength..];

    /// <summary>Maps a signed time to an unsigned number of the same order (long.MinValue..long.MaxValue onto 0..2^64-1).</summary>
    private static ulong EncodeTime(long unixMs) => (ulong)unixMs ^ SignBit;

    private static long DecodeTime(ulong stored) => (long)(stored ^ SignBit);
}
