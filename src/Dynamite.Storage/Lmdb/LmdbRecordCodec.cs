using System.Buffers.Binary;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// How a <see cref="StoredRecord"/> (its value, its expiry and its kind: every field it has) is stored as an LMDB value:
/// <code>
/// header(1) ‖ [expiresAt(8, little-endian) if HasExpiry] ‖ [keyLength(4, little-endian) ‖ key if HasKey] ‖ value bytes
/// </code>
/// The header is a set of flags: <see cref="HasExpiry"/>, <see cref="HasKey"/> for a record stored under a long
/// key's long-form data key (<see cref="LmdbKeys"/>), which must carry its whole key, and <see cref="TypedHeader"/>
/// for a typed key's header (<see cref="RecordKind.TypedHeader"/>; format version 2). A plain record without an
/// expiry costs one byte over its value, and the expiry can be read without touching the rest. Flag values are
/// persisted: a header with an unknown flag is data from a newer format and is refused rather than misread.
/// </summary>
internal static class LmdbRecordCodec
{
    /// <summary>Header flag: an 8-byte little-endian expiry (Unix ms) follows the header.</summary>
    private const byte HasExpiry = 1;

    /// <summary>Header flag: a 4-byte little-endian length and the record's whole key follow (after the expiry).</summary>
    private const byte HasKey = 2;

    /// <summary>Header flag: the record is a typed key's header (<see cref="RecordKind.TypedHeader"/>).</summary>
    private const byte TypedHeader = 4;

    private const byte KnownFlags = HasExpiry | HasKey | TypedHeader;

    private const int HeaderLength = 1;

    private const int ExpiryLength = sizeof(long);

    private const int KeyLengthLength = sizeof(int);

    /// <summary>The encoded length of <paramref name="record"/>, carrying <paramref name="longKey"/> when it is not empty.</summary>
    public static int EncodedLength(StoredRecord record, ReadOnlySpan<byte> longKey) =>
        HeaderLength + (record.HasExpiry ? ExpiryLength : 0) + (longKey.IsEmpty ? 0 : KeyLengthLength + longKey.Length) + record.Value.Length;

    /// <summary>Writes <paramref name="record"/> (with <paramref name="longKey"/> when not empty) into <paramref name="destination"/>, exactly <see cref="EncodedLength"/> long.</summary>
    public static void Encode(StoredRecord record, ReadOnlySpan<byte> longKey, Span<byte> destination)
    {
        byte header = record.IsTypedHeader ? TypedHeader : (byte)0;
        int offset = HeaderLength;
        if (record.HasExpiry)
        {
            header |= HasExpiry;
            BinaryPrimitives.WriteInt64LittleEndian(destination[offset..], record.ExpiresAtUnixMs);
            offset += ExpiryLength;
        }

        if (!longKey.IsEmpty)
        {
            header |= HasKey;
            BinaryPrimitives.WriteInt32LittleEndian(destination[offset..], longKey.Length);
            offset += KeyLengthLength;
            longKey.CopyTo(destination[offset..]);
            offset += longKey.Length;
        }

        destination[0] = header;
        record.Value.CopyTo(destination[offset..]);
    }

    /// <summary>The record's expiry (0: none) from the header alone.</summary>
    public static long ReadExpiry(ReadOnlySpan<byte> encoded)
    {
        byte header = ReadHeader(encoded);
        if ((header & HasExpiry) == 0)
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

    /// <summary>The whole key a long-form record carries (empty for a record under an inline key).</summary>
    public static ReadOnlySpan<byte> KeyOf(ReadOnlySpan<byte> encoded)
    {
        Split(encoded, out ReadOnlySpan<byte> key);
        return key;
    }

    /// <summary>Copies the record out (the only allocation is its value array).</summary>
    public static StoredRecord Decode(ReadOnlySpan<byte> encoded)
    {
        int valueOffset = Split(encoded, out _);
        RecordKind kind = (encoded[0] & TypedHeader) != 0 ? RecordKind.TypedHeader : RecordKind.Value;
        return new StoredRecord(encoded[valueOffset..].ToArray(), ReadExpiry(encoded), kind);
    }

    /// <summary>Where the value starts; <paramref name="key"/> is the carried key (empty when none).</summary>
    private static int Split(ReadOnlySpan<byte> encoded, out ReadOnlySpan<byte> key)
    {
        byte header = ReadHeader(encoded);
        int offset = HeaderLength + ((header & HasExpiry) != 0 ? ExpiryLength : 0);
        key = default;
        if ((header & HasKey) == 0)
        {
            return encoded.Length >= offset ? offset : throw Corrupt(encoded);
        }

        if (encoded.Length < offset + KeyLengthLength)
        {
            throw Corrupt(encoded);
        }

        int keyLength = BinaryPrimitives.ReadInt32LittleEndian(encoded[offset..]);
        offset += KeyLengthLength;
        if (keyLength <= 0 || keyLength > encoded.Length - offset)
        {
            throw Corrupt(encoded);
        }

        key = encoded.Slice(offset, keyLength);
        return offset + keyLength;
    }

    private static byte ReadHeader(ReadOnlySpan<byte> encoded) =>
        !encoded.IsEmpty && (encoded[0] & ~KnownFlags) == 0 ? encoded[0] : throw Corrupt(encoded);

    private static InvalidDataException Corrupt(ReadOnlySpan<byte> encoded) => new(encoded.IsEmpty
        ? "An LMDB record is empty; the engine never writes one, so the database is damaged."
        : $"An LMDB record has header {encoded[0]} and length {encoded.Length}; this version writes headers 0 to " +
          $"{KnownFlags} with room for their fields: the database was written by a newer Dynamite, or is damaged.");
}
