using System.Buffers;
using Dynamite.Core.Partitioning;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Anti-entropy initiator → replica: the hashes of nodes [<paramref name="FromIndex"/>, +<paramref name="Count"/>)
/// of level <paramref name="Level"/> (0 = root) of the partition's Merkle tree. The tree's shape travels with
/// every request so a replica configured with another shape refuses (an Error reply) instead of answering
/// hashes that can never match.
/// </summary>
public sealed record MerkleLevelRequest(PartitionId Partition, int SegmentCount, int FanOut, int Level, int FromIndex, int Count)
    : IPeerMessage<MerkleLevelRequest>
{
    public static PeerMessageType MessageType => PeerMessageType.MerkleLevelRequest;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 6 * 4;

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteInt32(writer, Partition.Value);
        PeerPayloadWriter.WriteInt32(writer, SegmentCount);
        PeerPayloadWriter.WriteInt32(writer, FanOut);
        PeerPayloadWriter.WriteInt32(writer, Level);
        PeerPayloadWriter.WriteInt32(writer, FromIndex);
        PeerPayloadWriter.WriteInt32(writer, Count);
    }

    public static MerkleLevelRequest Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        int partition = reader.ReadInt32("partition");
        int segmentCount = reader.ReadInt32("segmentCount");
        int fanOut = reader.ReadInt32("fanOut");
        int level = reader.ReadInt32("level");
        int fromIndex = reader.ReadInt32("fromIndex");
        int count = reader.ReadInt32("count");
        reader.EnsureEnd();
        if (partition < 0 || segmentCount < 0 || fanOut < 0 || level < 0 || fromIndex < 0 || count < 0)
        {
            throw new PeerProtocolException($"{MessageType} payload: a field is negative");
        }

        if (count > PeerLimits.MaxMerkleHashes)
        {
            throw new PeerProtocolException($"{MessageType} payload: count {count} exceeds its limit of {PeerLimits.MaxMerkleHashes}");
        }

        return new MerkleLevelRequest(new PartitionId(partition), segmentCount, fanOut, level, fromIndex, count);
    }
}
