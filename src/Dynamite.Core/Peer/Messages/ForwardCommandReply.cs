using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>Primary → forwarding node: the reply of a <see cref="ForwardCommand"/>, as RESP bytes for the client.</summary>
public sealed record ForwardCommandReply(ReadOnlyMemory<byte> Reply) : IPeerMessage<ForwardCommandReply>
{
    public static PeerMessageType MessageType => PeerMessageType.ForwardCommandReply;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => PeerPayloadWriter.BytesSize(Reply, PeerLimits.MaxObjectBytes, nameof(Reply));

    public void Write(IBufferWriter<byte> writer) => PeerPayloadWriter.WriteBytes(writer, Reply.Span, PeerLimits.MaxObjectBytes, nameof(Reply));

    public static ForwardCommandReply Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte[] reply = reader.ReadBytes("reply", PeerLimits.MaxObjectBytes);
        reader.EnsureEnd();
        return new ForwardCommandReply(reply);
    }
}
