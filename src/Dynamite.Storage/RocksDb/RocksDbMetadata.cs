using System.Buffers.Binary;
using RocksDbSharp;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// What the meta column family holds: the on-disk format version, and the key counters. The counters are written
/// in the same <see cref="WriteBatch"/> as every change that moves them, so after a crash they are exactly as
/// exact as the data (no recount on open), whatever the fsync policy.
/// </summary>
internal static class RocksDbMetadata
{
    /// <summary>
    /// The format this build writes and reads (key layouts, <see cref="RocksDbRecordCodec"/>). 1: the data, expiry and
    /// meta column families; 2 adds <c>elements</c> (a version 1 database gains it empty on open; a build that knows only
    /// version 1 cannot open a database with a column family it does not name); 3 adds <c>index</c> (a version 2 database
    /// gains it empty: its sorted sets have no score index entries, and are not migrated, since no user holds one yet).
    /// </summary>
    public const int CurrentFormatVersion = 3;

    private const int CountersLength = 2 * sizeof(long);

    /// <summary>int32 little-endian: the format version the database was created with.</summary>
    public static ReadOnlySpan<byte> FormatVersionKey => "format-version"u8;

    /// <summary>Two int64 little-endian: all stored keys, then those with an expiry.</summary>
    public static ReadOnlySpan<byte> CountersKey => "counters"u8;

    public static byte[] EncodeFormatVersion(int version)
    {
        byte[] encoded = new byte[sizeof(int)];
        BinaryPrimitives.WriteInt32LittleEndian(encoded, version);
        return encoded;
    }

    public static int DecodeFormatVersion(ReadOnlySpan<byte> encoded) => encoded.Length == sizeof(int)
        ? BinaryPrimitives.ReadInt32LittleEndian(encoded)
        : throw new InvalidDataException($"The RocksDB format version record is {encoded.Length} bytes long, not {sizeof(int)}: the database is damaged.");

    /// <summary>Adds the counters' new values to <paramref name="batch"/>.</summary>
    public static void StageCounters(WriteBatch batch, ColumnFamilyHandle meta, long keyCount, long keysWithExpiryCount)
    {
        Span<byte> encoded = stackalloc byte[CountersLength];
        BinaryPrimitives.WriteInt64LittleEndian(encoded, keyCount);
        BinaryPrimitives.WriteInt64LittleEndian(encoded[sizeof(long)..], keysWithExpiryCount);
        batch.Put(CountersKey, encoded, meta);
    }

    public static (long KeyCount, long KeysWithExpiryCount) DecodeCounters(ReadOnlySpan<byte> encoded) => encoded.Length == CountersLength
        ? (BinaryPrimitives.ReadInt64LittleEndian(encoded), BinaryPrimitives.ReadInt64LittleEndian(encoded[sizeof(long)..]))
        : throw new InvalidDataException($"The RocksDB counters record is {encoded.Length} bytes long, not {CountersLength}: the database is damaged.");
}
