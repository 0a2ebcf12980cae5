using System.Buffers.Binary;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// The key layouts of the engine's four column families, in one place so that every reader and writer agrees.
/// <para>
/// <b>Data</b> (the default column family): <c>hash(8, big-endian) ‖ key</c>, where hash is the key's XXH64
/// (<see cref="Core.Partitioning.KeyPartitioner.HashKey"/>). RocksDB orders keys bytewise, and a big-endian hash
/// sorts like the number, so iteration order is hash order: a partition (a hash range) and a scan resumed from a
/// hash are one seek and a forward walk, and keys of equal hash are adjacent (ordered by their bytes).
/// </para>
/// <para>
/// <b>Expiry index</b>: <c>expiresAt(8, big-endian, sign bit flipped) ‖ data key</c>, empty value, one entry per
/// record that has an expiry. Flipping the sign bit makes the signed time sort like the number (as
/// <c>SqliteSchema.EncodeHash</c> does for the hash), so the expired keys are a prefix of the column family and the
/// sweep never scans live data. Carrying the whole data key means a swept entry names its record directly.
/// </para>
/// <para>
/// <b>Elements</b>: <c>hash(8, big-endian) ‖ keyLength(4, big-endian) ‖ key ‖ element name</c>, the element's value
/// bytes as the value. The <b>element prefix</b> <c>hash ‖ keyLength ‖ key</c> names one key: its length field makes it
/// no other key's prefix (key <c>a</c> and key <c>ab</c> differ in it), so a key's elements are exactly the keys that
/// start with its prefix, one contiguous range in element-name byte order, and deleting them is one range deletion.
/// Ranges follow hash order as the data's do; two keys that share a hash sort by length, then bytes.
/// </para>
/// <para><b>Index entries</b> (<c>index</c>): keyed as elements are, the entry in the element name's place, with an
/// empty value.</para>
/// <para><b>Meta</b>: a few fixed ASCII keys (<see cref="RocksDbMetadata"/>).</para>
/// </summary>
internal static class RocksDbKeys
{
    public const int HashLength = sizeof(ulong);

    public const int ExpiryLength = sizeof(long);

    /// <summary>RocksDB's name of the default column family, which holds the data.</summary>
    public const string DataFamily = "default";

    public const string ExpiryFamily = "expiry";

    public const string MetaFamily = "meta";

    public const string ElementFamily = "elements";

    public const string IndexFamily = "index";

    /// <summary>The key length field of an element key.</summary>
    public const int KeyLengthLength = sizeof(int);

    /// <summary>Longest key built on the stack; longer keys rent an array.</summary>
    public const int StackKeyLimit = 512;

    private const ulong SignBit = 0x8000000000000000UL;

    /// <summary>Eight 0xFF bytes: every data key whose hash is below <see cref="ulong.MaxValue"/> sorts before it.</summary>
    public static ReadOnlySpan<byte> MaxHashPrefix => [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];

    public static int DataKeyLength(int keyLength) => HashLength + keyLength;

    /// <summary>Writes the data key of <paramref name="key"/> (hash <paramref name="hash"/>) into <paramref name="destination"/>, which must be exactly <see cref="DataKeyLength"/> long.</summary>
    public static void WriteDataKey(Span<byte> destination, ulong hash, ReadOnlySpan<byte> key)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, hash);
        key.CopyTo(destination[HashLength..]);
    }

    public static byte[] DataKey(ulong hash, ReadOnlySpan<byte> key)
    {
        byte[] dataKey = new byte[DataKeyLength(key.Length)];
        WriteDataKey(dataKey, hash, key);
        return dataKey;
    }

    /// <summary>The smallest data key with hash <paramref name="hash"/>: where a scan or partition starts.</summary>
    public static byte[] HashPrefix(ulong hash)
    {
        byte[] prefix = new byte[HashLength];
        BinaryPrimitives.WriteUInt64BigEndian(prefix, hash);
        return prefix;
    }

    public static ulong HashOf(ReadOnlySpan<byte> dataKey) => BinaryPrimitives.ReadUInt64BigEndian(dataKey);

    public static ReadOnlySpan<byte> UserKeyOf(ReadOnlySpan<byte> dataKey) => dataKey[HashLength..];

    /// <summary>The smallest key that sorts after <paramref name="key"/>: the key followed by a zero byte.</summary>
    public static byte[] Successor(ReadOnlySpan<byte> key)
    {
        byte[] next = new byte[key.Length + 1];
        key.CopyTo(next);
        return next;
    }

    public static int ElementPrefixLength(int keyLength) => HashLength + KeyLengthLength + keyLength;

    /// <summary>Writes the element prefix of <paramref name="key"/> (hash <paramref name="hash"/>) into <paramref name="destination"/>, which must be exactly <see cref="ElementPrefixLength"/> long.</summary>
    public static void WriteElementPrefix(Span<byte> destination, ulong hash, ReadOnlySpan<byte> key)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, hash);
        BinaryPrimitives.WriteInt32BigEndian(destination[HashLength..], key.Length);
        key.CopyTo(destination[(HashLength + KeyLengthLength)..]);
    }

    /// <summary>Writes the element key of <paramref name="element"/> of <paramref name="key"/>; <paramref name="destination"/> must be exactly <see cref="ElementPrefixLength"/> + the name's length long.</summary>
    public static void WriteElementKey(Span<byte> destination, ulong hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> element)
    {
        int prefixLength = ElementPrefixLength(key.Length);
        WriteElementPrefix(destination[..prefixLength], hash, key);
        element.CopyTo(destination[prefixLength..]);
    }

    /// <summary>
    /// Writes the smallest key that sorts after every key starting with <paramref name="prefix"/> (an element prefix)
    /// into <paramref name="destination"/> (at least as long) and returns its length: the prefix with its last byte
    /// that is not 0xFF raised by one, cut after it. An element prefix always has one: its key length field starts
    /// with a byte below 0x80.
    /// </summary>
    public static int WritePrefixEnd(ReadOnlySpan<byte> prefix, Span<byte> destination)
    {
        int last = prefix.LastIndexOfAnyExcept((byte)0xFF);
        if (last < 0)
        {
            throw new ArgumentException("A prefix of 0xFF bytes only has no end: every longer key sorts after it.", nameof(prefix));
        }

        prefix[..last].CopyTo(destination);
        destination[last] = (byte)(prefix[last] + 1);
        return last + 1;
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
