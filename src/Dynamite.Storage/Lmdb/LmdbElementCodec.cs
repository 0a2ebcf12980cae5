using System.Buffers.Binary;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// How an element is stored as an LMDB value. Under a name stored as it is (most), the value is the element's value
/// bytes, untouched. Under a long name's long form (<see cref="LmdbKeys"/>), the entry carries the whole name:
/// <code>
/// nameLength(4, little-endian) ‖ name ‖ value bytes
/// </code>
/// The element key says which form the entry has, so no header byte is spent on the common case.
/// </summary>
internal static class LmdbElementCodec
{
    private const int NameLengthLength = sizeof(int);

    public static int LongFormLength(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => NameLengthLength + name.Length + value.Length;

    /// <summary>Writes a long name's entry into <paramref name="destination"/>, exactly <see cref="LongFormLength"/> long.</summary>
    public static void EncodeLongForm(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, name.Length);
        name.CopyTo(destination[NameLengthLength..]);
        value.CopyTo(destination[(NameLengthLength + name.Length)..]);
    }

    /// <summary>The name and the value a long name's entry carries.</summary>
    public static ReadOnlySpan<byte> DecodeLongForm(ReadOnlySpan<byte> encoded, out ReadOnlySpan<byte> value)
    {
        int nameLength = encoded.Length >= NameLengthLength ? BinaryPrimitives.ReadInt32LittleEndian(encoded) : -1;
        if (nameLength <= 0 || nameLength > encoded.Length - NameLengthLength)
        {
            throw new InvalidDataException(
                $"An LMDB element under a long name has {encoded.Length} bytes and a name length of {nameLength}: the database is damaged.");
        }

        value = encoded[(NameLengthLength + nameLength)..];
        return encoded.Slice(NameLengthLength, nameLength);
    }
}
