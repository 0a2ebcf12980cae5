using System.Buffers.Binary;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// What the meta database holds: the on-disk format version, and the key counters. The counters are written in the
/// same write transaction as every change that moves them, so they are exactly as exact as the data (no recount on
/// open), whatever the fsync policy.
/// </summary>
internal static class LmdbMetadata
{
    /// <summary>
    /// The format this build writes and reads (key layouts, <see cref="LmdbRecordCodec"/>). 1: data, expiry and meta;
    /// 2 adds the <c>elements</c> database (a version 1 database gains it empty on open, and a build that knows only
    /// version 1, which would delete keys without their elements, refuses it); 3 adds <c>index</c> (index entries, empty
    /// on open: sorted sets stored before have none, and are not migrated, since no user holds one yet).
    /// </summary>
    public const int CurrentFormatVersion = 3;

    public const int CountersLength = 2 * sizeof(long);

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
        : throw new InvalidDataException($"The LMDB format version record is {encoded.Length} bytes long, not {sizeof(int)}: the database is damaged.");

    public static void EncodeCounters(Span<byte> destination, long keyCount, long keysWithExpiryCount)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, keyCount);
        BinaryPrimitives.WriteInt64LittleEndian(destination[sizeof(long)..], keysWithExpiryCount);
    }

    public static (long KeyCount, long KeysWithExpiryCount) DecodeCounters(ReadOnlySpan<byte> encoded) => encoded.Length == CountersLength
        ? (BinaryPrimitives.ReadInt64LittleEndian(encoded), BinaryPrimitives.ReadInt64LittleEndian(encoded[sizeof(long)..]))
        : throw new InvalidDataException($"The LMDB counters record is {encoded.Length} bytes long, not {CountersLength}: the database is damaged.");
}
