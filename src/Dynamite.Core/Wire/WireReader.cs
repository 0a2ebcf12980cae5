namespace Dynamite.Core.Wire;

/// <summary>
/// Reads the core's compact binary encodings from a span. Every malformed input ends in a
/// <see cref="FormatException"/> naming the offset, never an index error: these bytes come from
/// disk and from peers. Varints are LEB128 and must be canonical (no overlong forms), so that one
/// value has exactly one encoding and encoded objects can be hashed (Merkle trees).
/// </summary>
internal ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public WireReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public byte ReadByte()
    {
        if (_position >= _buffer.Length)
        {
            throw Truncated("a byte");
        }

        return _buffer[_position++];
    }

    public ReadOnlySpan<byte> ReadBytes(int length)
    {
        if (length < 0 || length > Remaining)
        {
            throw Truncated($"{length} bytes");
        }

        ReadOnlySpan<byte> slice = _buffer.Slice(_position, length);
        _position += length;
        return slice;
    }

    public ulong ReadVarUInt64()
    {
        int start = _position;
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = ReadByte();
            if (shift == 63 && b > 1)
            {
                throw new FormatException($"Varint at offset {start} overflows 64 bits.");
            }

            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                if (b == 0 && shift > 0)
                {
                    throw new FormatException($"Varint at offset {start} is not in its shortest form.");
                }

                return result;
            }
        }

        throw new FormatException($"Varint at offset {start} is longer than 10 bytes.");
    }

    /// <summary>A zigzag-encoded signed varint.</summary>
    public long ReadVarInt64()
    {
        ulong raw = ReadVarUInt64();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>An unsigned varint that must fit an int and be at most <paramref name="max"/>.</summary>
    public int ReadCount(int max, string what)
    {
        int start = _position;
        ulong value = ReadVarUInt64();
        if (value > (ulong)max)
        {
            throw new FormatException($"{what} at offset {start} is {value}, more than the {max} the remaining bytes can hold.");
        }

        return (int)value;
    }

    public readonly void ExpectEnd()
    {
        if (_position != _buffer.Length)
        {
            throw new FormatException($"{_buffer.Length - _position} unexpected trailing bytes at offset {_position}.");
        }
    }

    private readonly FormatException Truncated(string what) =>
        new($"Input truncated: expected {what} at offset {_position} of {_buffer.Length}.");
}
