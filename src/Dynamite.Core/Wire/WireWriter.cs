namespace Dynamite.Core.Wire;

/// <summary>
/// Writes the core's compact binary encodings into a span the caller sized exactly with the
/// <c>SizeOf</c> helpers, so encoding allocates one array and never grows a buffer.
/// </summary>
internal ref struct WireWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public WireWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public static int SizeOfVarUInt64(ulong value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    public static int SizeOfVarInt64(long value) => SizeOfVarUInt64(ZigZag(value));

    public void WriteByte(byte value) => _buffer[_position++] = value;

    public void WriteBytes(scoped ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer[_position..]);
        _position += bytes.Length;
    }

    public void WriteVarUInt64(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer[_position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _buffer[_position++] = (byte)value;
    }

    public void WriteVarInt64(long value) => WriteVarUInt64(ZigZag(value));

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));
}
