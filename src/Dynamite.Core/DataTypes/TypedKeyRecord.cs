using System.Buffers.Binary;
using Dynamite.Core.KeyValue;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// What a node stores as a typed key's record (<see cref="RecordKind.TypedHeader"/>, docs/DATA-TYPES.md "Storage"):
/// the replicated <see cref="KeyHeader"/> and this replica's count of the key's present elements. The count is local
/// (derived from the elements stored here, kept exact by every operation that adds or removes one, never joined), so
/// HLEN and SCARD are one record read instead of a scan.
/// <para>Binary form: element count (8, little-endian) ‖ <see cref="KeyHeader.Encode"/>.</para>
/// </summary>
/// <param name="Header">The key's replicated header (type, context, expiry).</param>
/// <param name="ElementCount">How many elements of the key are present on this node.</param>
public sealed record TypedKeyRecord(KeyHeader Header, long ElementCount)
{
    private const int CountLength = sizeof(long);

    public byte[] Encode()
    {
        byte[] header = Header.Encode();
        byte[] bytes = new byte[CountLength + header.Length];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, ElementCount);
        header.CopyTo(bytes.AsSpan(CountLength));
        return bytes;
    }

    /// <summary>The record an engine stores: the encoding, the header's expiry (so the engine's sweep finds the key), the typed kind.</summary>
    public StoredRecord ToStoredRecord() => new(Encode(), Header.ExpiresAtUnixMs, RecordKind.TypedHeader);

    /// <summary>Reads a whole encoded record; malformed input is a <see cref="FormatException"/>.</summary>
    public static TypedKeyRecord Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length <= CountLength)
        {
            throw new FormatException($"A typed key record of {encoded.Length} bytes is too short.");
        }

        long count = BinaryPrimitives.ReadInt64LittleEndian(encoded);
        return count < 0
            ? throw new FormatException($"A typed key record counts {count} elements.")
            : new TypedKeyRecord(KeyHeader.Decode(encoded[CountLength..]), count);
    }

    /// <summary>The type alone, without decoding the context (TYPE, SCAN ... TYPE, WRONGTYPE checks).</summary>
    public static DataType TypeOf(ReadOnlySpan<byte> encoded) =>
        encoded.Length > CountLength + 1 && DataTypeNames.IsDefined(encoded[CountLength + 1])
            ? (DataType)encoded[CountLength + 1]
            : throw new FormatException("A typed key record has no known type.");

    /// <summary>The element count alone.</summary>
    public static long CountOf(ReadOnlySpan<byte> encoded) =>
        encoded.Length > CountLength ? BinaryPrimitives.ReadInt64LittleEndian(encoded) : throw new FormatException("A typed key record is too short.");
}
