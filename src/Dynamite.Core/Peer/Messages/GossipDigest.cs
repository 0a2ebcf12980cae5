using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Gossip, first step: "my cluster state hashes to <paramref name="Digest"/>". The receiver answers
/// with its full state (<see cref="GossipState"/>) only when its own digest differs, so a converged
/// cluster gossips 17 bytes per exchange. The ring version is there for logs and for a runtime that
/// wants to prioritise peers with newer rings.
/// </summary>
public sealed record GossipDigest(ulong Digest, long RingVersion) : IPeerMessage<GossipDigest>
{
    public static PeerMessageType MessageType => PeerMessageType.GossipDigest;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 16;

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteUInt64(writer, Digest);
        PeerPayloadWriter.WriteInt64(writer, RingVersion);
    }

    public static GossipDigest Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        ulong digest = reader.ReadUInt64("digest");
        long ringVersion = reader.ReadInt64("ring version");
        reader.EnsureEnd();
        if (ringVersion < 0)
        {
            throw new PeerProtocolException($"{MessageType} payload: negative ring version {ringVersion}");
        }

        return new GossipDigest(digest, ringVersion);
    }
}
