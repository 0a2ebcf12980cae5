using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>Asks a replica how many keys it holds (tests, status and warm-up progress); no payload.</summary>
public sealed record ReplicaCount : IPeerMessage<ReplicaCount>
{
    public static readonly ReplicaCount Instance = new();

    public static PeerMessageType MessageType => PeerMessageType.ReplicaCount;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 0;

    public void Write(IBufferWriter<byte> writer)
    {
    }

    public static ReplicaCount Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        reader.EnsureEnd();
        return Instance;
    }
}
