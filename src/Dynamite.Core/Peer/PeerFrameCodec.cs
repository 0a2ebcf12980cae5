using System.Buffers;
using System.Buffers.Binary;

namespace Dynamite.Core.Peer;

/// <summary>
/// Frames of the peer protocol (DESIGN.md, "Wire formats"):
/// <code>
///   [u32 big-endian length of what follows][u8 version][u8 message type][u64 big-endian request id][payload]
///    \_______ LengthPrefixBytes ________/ \______________ BodyHeaderBytes ______________/
/// </code>
/// The version byte is in every frame (not only the handshake), so a future version can change the layout of
/// one message without a new connection-level negotiation. Decoding is incremental: an incomplete frame is
/// left in the buffer; a frame that can never be valid throws <see cref="PeerProtocolException"/>.
/// </summary>
public static class PeerFrameCodec
{
    /// <summary>The only version this node speaks.</summary>
    public const byte ProtocolVersion = 1;

    public const int LengthPrefixBytes = 4;

    /// <summary>Version, type and request id: the smallest legal value of the length prefix.</summary>
    public const int BodyHeaderBytes = 1 + 1 + 8;

    public const int HeaderBytes = LengthPrefixBytes + BodyHeaderBytes;

    /// <summary>
    /// Default limit on the length prefix: the largest object (<see cref="PeerLimits.MaxObjectBytes"/>) plus 64 KiB
    /// of headroom for the key and the other fields of a put.
    /// </summary>
    public const int DefaultMaxFrameBytes = PeerLimits.MaxObjectBytes + (64 * 1024);

    /// <summary>
    /// Takes one complete frame from the front of <paramref name="buffer"/>, advancing it past the frame.
    /// Returns false (buffer untouched) when the frame is not complete yet. <paramref name="payload"/> slices
    /// the input: it is valid only until the caller advances its pipe.
    /// </summary>
    public static bool TryReadFrame(
        ref ReadOnlySequence<byte> buffer,
        int maxFrameBytes,
        out PeerFrameHeader header,
        out ReadOnlySequence<byte> payload)
    {
        header = default;
        payload = default;
        if (buffer.Length < LengthPrefixBytes)
        {
            return false;
        }

        Span<byte> scratch = stackalloc byte[HeaderBytes];
        ReadOnlySpan<byte> head = buffer.FirstSpan.Length >= HeaderBytes
            ? buffer.FirstSpan[..HeaderBytes]
            : CopyHead(buffer, scratch);

        uint length = BinaryPrimitives.ReadUInt32BigEndian(head);
        if (length < BodyHeaderBytes)
        {
            throw new PeerProtocolException($"peer frame length {length} is below the {BodyHeaderBytes}-byte frame header");
        }

        if (length > (uint)maxFrameBytes)
        {
            throw new PeerProtocolException($"peer frame length {length} exceeds the limit of {maxFrameBytes} bytes");
        }

        // Reject a foreign version as soon as its byte arrives, not after buffering a whole (maybe huge) frame.
        if (head.Length > LengthPrefixBytes && head[LengthPrefixBytes] != ProtocolVersion)
        {
            throw new PeerProtocolException(
                $"peer protocol version {head[LengthPrefixBytes]} is not supported (this node speaks version {ProtocolVersion})");
        }

        if (buffer.Length - LengthPrefixBytes < length)
        {
            return false;
        }

        header = new PeerFrameHeader(
            head[LengthPrefixBytes],
            (PeerMessageType)head[LengthPrefixBytes + 1],
            BinaryPrimitives.ReadUInt64BigEndian(head[(LengthPrefixBytes + 2)..]),
            (int)length - BodyHeaderBytes);
        payload = buffer.Slice(HeaderBytes, header.PayloadLength);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    /// <summary>Writes one frame: the header, then the payload directly into <paramref name="writer"/>.</summary>
    public static void WriteFrame<TPayload>(IBufferWriter<byte> writer, ulong requestId, TPayload payload)
        where TPayload : IPeerPayload
    {
        WriteFrame(writer, payload.Type, requestId, payload);
    }

    /// <summary>
    /// Writes one frame with an explicit type (a reply may carry a payload shape under another type, and tests
    /// forge frames this way). The payload must write exactly <see cref="IPeerPayload.PayloadLength"/> bytes.
    /// </summary>
    public static void WriteFrame<TPayload>(IBufferWriter<byte> writer, PeerMessageType type, ulong requestId, TPayload payload)
        where TPayload : IPeerPayload
    {
        int payloadLength = payload.PayloadLength;
        if ((uint)payloadLength > int.MaxValue - BodyHeaderBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), payloadLength, "peer payload length out of range");
        }

        WriteHeader(writer, type, requestId, payloadLength);
        payload.Write(writer);
    }

    /// <summary>Writes the 14-byte frame header for a payload of <paramref name="payloadLength"/> bytes.</summary>
    public static void WriteHeader(IBufferWriter<byte> writer, PeerMessageType type, ulong requestId, int payloadLength)
    {
        Span<byte> span = writer.GetSpan(HeaderBytes);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)(payloadLength + BodyHeaderBytes));
        span[LengthPrefixBytes] = ProtocolVersion;
        span[LengthPrefixBytes + 1] = (byte)type;
        BinaryPrimitives.WriteUInt64BigEndian(span[(LengthPrefixBytes + 2)..], requestId);
        writer.Advance(HeaderBytes);
    }

    private static ReadOnlySpan<byte> CopyHead(ReadOnlySequence<byte> buffer, Span<byte> scratch)
    {
        int available = (int)Math.Min(buffer.Length, HeaderBytes);
        buffer.Slice(0, available).CopyTo(scratch);
        return scratch[..available];
    }
}
