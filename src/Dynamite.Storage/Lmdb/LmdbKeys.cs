using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// The key layouts of the engine's three named databases, in one place so that every reader and writer agrees.
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

    /// <summary>The longest key the engine gives LMDB (an expiry entry of a long key); LMDB must accept it.</summary>
    public const int MaxStoredKeyLength = ExpiryLength + LongDataKeyLength;

    /// <summary>Longest data key built on the stack; every data key fits.</summary>
    public const int StackKeyLimit = LongDataKeyLength;

    public const string DataDatabase = "data";

    public const string ExpiryDatabase = "expiry";

    public const string MetaDatabase = "meta";

    private const int DigestLength = SHA256.HashSizeInBytes;

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
