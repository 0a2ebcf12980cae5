using System.Buffers.Binary;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// How a <see cref="StoredRecord"/> (its value and its expiry: every field it has) is stored as a RocksDB value:
/// <code>
/// header(1) ‖ [expiresAt(8, little-endian) if header = WithExpiry] ‖ value bytes
/// </code>
/// A record without an expiry (most of them) costs one byte over its value. The header comes first so the expiry
/// can be read without touching the value (counter bookkeeping, scans). Header values are persisted: append only,
/// never renumbered; an unknown header is data from a newer format and is refused rather than misread.
/// </summary>
internal static class RocksDbRecordCodec
{
    /// <summary>Header: the record never expires; the value follows.</summary>
    private const byte NoExpiry = 0;

    /// <summary>Header: an 8-byte little-endian expiry (Unix ms) follows, then the value.</summary>
    private const byte WithExpiry = 1;

    private const int HeaderLength = 1;

    private const int ExpiryLength = sizeof(long);

    public static int EncodedLength(StoredRecord record) =>
        HeaderLength + (record.HasExpiry ? ExpiryLength : 0) + record.Value.Length;

    /// <summary>Writes <paramref name="record"/> into <paramref name="destination"/> (at least <see cref="EncodedLength"/> long) and returns the length written.</summary>
    public static int Encode(StoredRecord record, Span<byte> destination)
    {
        int offset = HeaderLength;
        if (record.HasExpiry)
        {
            destination[0] = WithExpiry;
            BinaryPrimitives.WriteInt64LittleEndian(destination[HeaderLength..], record.ExpiresAtUnixMs);
            offset += ExpiryLength;
        }
        else
        {
            destination[0] = NoExpiry;
        }

        record.Value.CopyTo(destination[offset..]);
        return offset + record.Value.Length;
    }

    /// <summary>The record's expiry (0: none) from the header alone.</summary>
    public static long ReadExpiry(ReadOnlySpan<byte> encoded) => encoded.IsEmpty
        ? throw Corrupt(encoded)
        : encoded[0] switch
        {
            NoExpiry => 0,
            WithExpiry when encoded.Length >= HeaderLength + ExpiryLength => BinaryPrimitives.ReadInt64LittleEndian(encoded[HeaderLength..]),
            _ => throw Corrupt(encoded),
        };

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
        int offset = HeaderLength + (encoded[0] == WithExpiry ? ExpiryLength : 0);
        return new StoredRecord(encoded[offset..].ToArray(), expiresAt);
    }

    private static InvalidDataException Corrupt(ReadOnlySpan<byte> encoded) => new(encoded.IsEmpty
        ? "A RocksDB record is empty; the engine never writes one, so the database is damaged."
        : $"A RocksDB record has header {encoded[0]} and length {encoded.Length}; this version writes headers " +
          $"{NoExpiry} and {WithExpiry}: the database was written by a newer Dynamite, or is damaged.");
}
