using System.Buffers.Binary;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// How a <see cref="StoredRecord"/> (its value, its expiry and its kind: every field it has) is stored as a RocksDB value:
/// <code>
/// header(1) ‖ [expiresAt(8, little-endian) if header has WithExpiry] ‖ value bytes
/// </code>
/// The header is a set of flags: <see cref="WithExpiry"/> and <see cref="TypedHeader"/> (the record is a typed key's
/// header, <see cref="RecordKind.TypedHeader"/>; format version 2). A plain record without an expiry (most of them) costs
/// one byte over its value. The header comes first so the expiry can be read without touching the value (counter
/// bookkeeping, scans). Flag values are persisted: append only, never renumbered; an unknown flag is data from a newer
/// format and is refused rather than misread.
/// </summary>
internal static class RocksDbRecordCodec
{
    /// <summary>Header: the record never expires; the value follows.</summary>
    private const byte NoExpiry = 0;

    /// <summary>Header: an 8-byte little-endian expiry (Unix ms) follows, then the value.</summary>
    private const byte WithExpiry = 1;

    /// <summary>Header flag: the record is a typed key's header (<see cref="RecordKind.TypedHeader"/>).</summary>
    private const byte TypedHeader = 2;

    private const byte KnownFlags = WithExpiry | TypedHeader;

    private const int HeaderLength = 1;

    private const int ExpiryLength = sizeof(long);

    public static int EncodedLength(StoredRecord record) =>
        HeaderLength + (record.HasExpiry ? ExpiryLength : 0) + record.Value.Length;

    /// <summary>Writes <paramref name="record"/> into <paramref name="destination"/> (at least <see cref="EncodedLength"/> long) and returns the length written.</summary>
    public static int Encode(StoredRecord record, Span<byte> destination)
    {
        int offset = HeaderLength;
        byte header = record.IsTypedHeader ? TypedHeader : NoExpiry;
        if (record.HasExpiry)
        {
            header |= WithExpiry;
            BinaryPrimitives.WriteInt64LittleEndian(destination[HeaderLength..], record.ExpiresAtUnixMs);
            offset += ExpiryLength;
        }

        destination[0] = header;

        record.Value.CopyTo(destination[offset..]);
        return offset + record.Value.Length;
    }

    /// <summary>The record's expiry (0: none) from the header alone.</summary>
    public static long ReadExpiry(ReadOnlySpan<byte> encoded)
    {
        byte header = ReadHeader(encoded);
        if ((header & WithExpiry) == 0)
        {
            return 0;
        }

        return encoded.Length >= HeaderLength + ExpiryLength
            ? BinaryPrimitives.ReadInt64LittleEndian(encoded[HeaderLength..])
            : throw Corrupt(encoded);
    }

    /// <summary>True when the record is not expired at <paramref name="nowUnixMs"/>.</summary>
    public static bool IsLiveAt(ReadOnlySpan<byte> encoded, long nowUnixMs)
    {
        long expiresAt = ReadExpiry(encoded);
        return expiresAt == 0 || expiresAt > nowUnixMs;
    }

    /// <summary>Copies the record out (the only allocation is its value array).</summary>
    public static StoredRecord Decode(ReadOnlySpan<byte> encoded)
    {
        long expiresAt = ReadExpiry(encoded);
        int offset = HeaderLength + ((encoded[0] & WithExpiry) != 0 ? ExpiryLength : 0);
        RecordKind kind = (encoded[0] & TypedHeader) != 0 ? RecordKind.TypedHeader : RecordKind.Value;
        return new StoredRecord(encoded[offset..].ToArray(), expiresAt, kind);
    }

    private static byte ReadHeader(ReadOnlySpan<byte> encoded) =>
        !encoded.IsEmpty && (encoded[0] & ~KnownFlags) == 0 ? encoded[0] : throw Corrupt(encoded);

    private static InvalidDataException Corrupt(ReadOnlySpan<byte> encoded) => new(encoded.IsEmpty
        ? "A RocksDB record is empty; the engine never writes one, so the database is damaged."
        : $"A RocksDB record has header {encoded[0]} and length {encoded.Length}; this version writes headers " +
          $"{NoExpiry} to {KnownFlags}: the database was written by a newer Dynamite, or is damaged.");
}
