using System.Buffers;
using System.Text;

namespace Dynamite.Core.Wire;

/// <summary>
/// The <see cref="WireWriter"/> encodings (LEB128 varints, canonical) into a buffer that grows, for
/// structures whose size is awkward to compute up front (the cluster state). Strings are a varint
/// byte length and UTF-8, read back by <see cref="WireReader"/>.
/// </summary>
internal sealed class GrowableWireWriter
{
    /// <summary>Holds everything written so far.</summary>
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void WriteVarUInt64(ulong value)
    {
        Span<byte> span = _buffer.GetSpan(10);
        var writer = new WireWriter(span);
        writer.WriteVarUInt64(value);
        _buffer.Advance(writer.Position);
    }

    public void WriteString(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        WriteVarUInt64((ulong)length);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(length));
        _buffer.Advance(length);
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer.GetSpan(bytes.Length));
        _buffer.Advance(bytes.Length);
    }
}
