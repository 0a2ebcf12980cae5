using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>Gossip: a full cluster state (ClusterState.Write), sent when digests differ; the receiver merges it and answers with the merged state only if that differs from what it received, so an exchange ends after at most two states. The bytes are opaque here; ClusterState.Read validates them.</summary>
public sealed record GossipState(ReadOnlyMemory<byte> EncodedState) : IPeerMessage<GossipState>
{
    public static PeerMessageType MessageType => PeerMessageType.GossipState;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => PeerPayloadWriter.BytesSize(EncodedState, PeerLimits.MaxObjectBytes, nameof(EncodedState));

    public void Write(IBufferWriter<byte> writer) =>
        PeerPayloadWriter.WriteBytes(writer, EncodedState.Span, PeerLimits.MaxObjectBytes, nameof(EncodedState));

    public static GossipState Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte[] state = reader.ReadBytes("state", PeerLimits.MaxObjectBytes);
        reader.EnsureEnd();
        return new GossipState(state);
    }
}
