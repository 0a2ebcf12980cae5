using System.Buffers;
using Dynamite.Core.Partitioning;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Anti-entropy initiator → replica: list the keys (with their key digests) of one segment of the partition,
/// a segment found to differ by a Merkle exchange. The segment count travels along so both sides cut the
/// partition's hash range identically.
/// </summary>
public sealed record SegmentKeysRequest(PartitionId Partition, int SegmentCount, int Segment) : IPeerMessage<SegmentKeysRequest>
{
    public static PeerMessageType MessageType => PeerMessageType.SegmentKeysRequest;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 3 * 4;

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteInt32(writer, Partition.Value);
        PeerPayloadWriter.WriteInt32(writer, SegmentCount);
        PeerPayloadWriter.WriteInt32(writer, Segment);
    }

    public static SegmentKeysRequest Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        int partition = reader.ReadInt32("partition");
        int segmentCount = reader.ReadInt32("segmentCount");
        int segment = reader.ReadInt32("segment");
        reader.EnsureEnd();
        if (partition < 0 || segmentCount < 0 || segment < 0)
        {
            throw new PeerProtocolException($"{MessageType} payload: a field is negative");
        }

        return new SegmentKeysRequest(new PartitionId(partition), segmentCount, segment);
    }
}
