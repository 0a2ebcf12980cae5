using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>The number of keys the replica holds (live records, tombstones included).</summary>
public sealed record ReplicaCountReply(long Count) : IPeerMessage<ReplicaCountReply>
{
    public static PeerMessageType MessageType => PeerMessageType.ReplicaCountReply;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 8;

    public void Write(IBufferWriter<byte> writer) => PeerPayloadWriter.WriteInt64(writer, Count);

    public static ReplicaCountReply Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        long value = reader.ReadInt64("count");
        reader.EnsureEnd();
        return new ReplicaCountReply(value);
    }
}
