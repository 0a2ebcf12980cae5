using System.Buffers.Binary;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// The key layouts of the engine's three column families, in one place so that every reader and writer agrees.
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
