using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>Seed → new node: the whole cluster state after admitting it (ClusterState.Write), so a new node learns the cluster from one seed. The bytes are opaque here; ClusterState.Read validates them.</summary>
public sealed record JoinReply(ReadOnlyMemory<byte> EncodedState) : IPeerMessage<JoinReply>
{
    public static PeerMessageType MessageType => PeerMessageType.JoinReply;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => PeerPayloadWriter.BytesSize(EncodedState, PeerLimits.MaxObjectBytes, nameof(EncodedState));

    public void Write(IBufferWriter<byte> writer) =>
        PeerPayloadWriter.WriteBytes(writer, EncodedState.Span, PeerLimits.MaxObjectBytes, nameof(EncodedState));

    public static JoinReply Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte[] state = reader.ReadBytes("state", PeerLimits.MaxObjectBytes);
        reader.EnsureEnd();
        return new JoinReply(state);
    }
}
