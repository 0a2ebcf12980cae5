using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Dynamite.Core.Peer;

/// <summary>
/// Field encodings shared by every payload (all integers big-endian): strings are a u16 byte length and UTF-8;
/// byte strings are a u32 length and the bytes; nonces and proofs are fixed-size with no prefix. Each Size
/// method returns exactly what its Write method produces, which <see cref="IPeerPayload.PayloadLength"/> relies on.
/// Writers enforce the limits decoders enforce, so this node never sends what a peer must refuse.
/// </summary>
public static class PeerPayloadWriter
{
    public static void WriteByte(IBufferWriter<byte> writer, byte value)
    {
        writer.GetSpan(1)[0] = value;
        writer.Advance(1);
    }

    public static void WriteUInt16(IBufferWriter<byte> writer, ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(writer.GetSpan(2), value);
        writer.Advance(2);
    }

    public static void WriteInt32(IBufferWriter<byte> writer, int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(writer.GetSpan(4), value);
        writer.Advance(4);
    }

    public static void WriteUInt64(IBufferWriter<byte> writer, ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(writer.GetSpan(8), value);
        writer.Advance(8);
    }

    public static void WriteInt64(IBufferWriter<byte> writer, long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(writer.GetSpan(8), value);
        writer.Advance(8);
    }

    public static int StringSize(string value, int maxBytes, string field)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        if (length > maxBytes)
        {
            throw new ArgumentException($"'{field}' is {length} bytes of UTF-8; the peer protocol allows {maxBytes}", field);
        }

        return 2 + length;
    }

    public static void WriteString(IBufferWriter<byte> writer, string value, int maxBytes, string field)
    {
        int length = StringSize(value, maxBytes, field) - 2;
        Span<byte> span = writer.GetSpan(2 + length);
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)length);
        Encoding.UTF8.GetBytes(value, span[2..]);
        writer.Advance(2 + length);
    }

    public static int BytesSize(ReadOnlyMemory<byte> value, int maxBytes, string field)
    {
        if (value.Length > maxBytes)
        {
            throw new ArgumentException($"'{field}' is {value.Length} bytes; the peer protocol allows {maxBytes}", field);
        }

        return 4 + value.Length;
    }

    /// <summary>Writes in chunks the writer offers, so a 32 MiB object never needs one 32 MiB buffer.</summary>
    public static void WriteBytes(IBufferWriter<byte> writer, ReadOnlySpan<byte> value, int maxBytes, string field)
    {
        if (value.Length > maxBytes)
        {
            throw new ArgumentException($"'{field}' is {value.Length} bytes; the peer protocol allows {maxBytes}", field);
        }

        BinaryPrimitives.WriteUInt32BigEndian(writer.GetSpan(4), (uint)value.Length);
        writer.Advance(4);
        WriteFixed(writer, value);
    }

    /// <summary>Raw bytes with no length prefix, chunked.</summary>
    public static void WriteFixed(IBufferWriter<byte> writer, ReadOnlySpan<byte> value)
    {
        while (!value.IsEmpty)
        {
            Span<byte> span = writer.GetSpan(1);
            int chunk = Math.Min(span.Length, value.Length);
            value[..chunk].CopyTo(span);
            writer.Advance(chunk);
            value = value[chunk..];
        }
    }
}
