using System.Buffers;
using Dynamite.Core.Partitioning;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Coordinator → replica: read the object stored under a key (its partition is sent so the replica need not rehash).
/// A non-zero <paramref name="UnlessDigest"/> is the version digest of the copy the coordinator already holds
/// (XXH64 of its canonical encoding): a replica whose copy has that digest answers
/// <see cref="ReplicaGetStatus.Unchanged"/> without the object, so agreeing replicas cost a few bytes, not a value.
/// </summary>
public sealed record ReplicaGet(ReadOnlyMemory<byte> Key, PartitionId Partition, ulong UnlessDigest = 0) : IPeerMessage<ReplicaGet>
{
    public static PeerMessageType MessageType => PeerMessageType.ReplicaGet;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => PeerPayloadWriter.BytesSize(Key, PeerLimits.MaxKeyBytes, nameof(Key)) + 4 + 8;

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteBytes(writer, Key.Span, PeerLimits.MaxKeyBytes, nameof(Key));
        PeerPayloadWriter.WriteInt32(writer, Partition.Value);
        PeerPayloadWriter.WriteUInt64(writer, UnlessDigest);
    }

    public static ReplicaGet Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte[] key = reader.ReadBytes("key", PeerLimits.MaxKeyBytes);
        int partition = reader.ReadInt32("partition");
        ulong unlessDigest = reader.ReadUInt64("unless digest");
        reader.EnsureEnd();
        if (partition < 0)
        {
            throw new PeerProtocolException($"{MessageType} payload: partition {partition} is negative");
        }

        return new ReplicaGet(key, new PartitionId(partition), unlessDigest);
    }
}
