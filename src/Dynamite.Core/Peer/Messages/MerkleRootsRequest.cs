using System.Buffers;
using Dynamite.Core.Partitioning;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Anti-entropy initiator → replica: the Merkle roots of many partitions at once, so that a round learns with one
/// round trip per peer (<see cref="AntiEntropy.MerkleRootComparison"/>) which partitions agree and starts a
/// <see cref="MerkleLevelRequest"/> exchange only for the others. The tree shape travels along, as in
/// <see cref="MerkleLevelRequest"/>, so a replica with trees of another shape refuses instead of answering roots that
/// can never match. i32 segment count, i32 fan-out, u32 count, then the partitions as i32, strictly ascending
/// (so a partition is asked for once) and at most <see cref="PeerLimits.MaxMerkleRoots"/> of them.
/// </summary>
public sealed record MerkleRootsRequest(int SegmentCount, int FanOut, IReadOnlyList<PartitionId> Partitions) : IPeerMessage<MerkleRootsRequest>
{
    public static PeerMessageType MessageType => PeerMessageType.MerkleRootsRequest;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => PayloadLengthFor(Partitions.Count);

    /// <summary>The payload size of a request for <paramref name="count"/> partitions (anti-entropy counts its bytes with it).</summary>
    public static int PayloadLengthFor(int count)
    {
        if (count > PeerLimits.MaxMerkleRoots)
        {
            throw new ArgumentException($"a Merkle roots request asks for at most {PeerLimits.MaxMerkleRoots} partitions, not {count}", nameof(count));
        }

        return 3 * 4 + (count * 4);
    }

    public void Write(IBufferWriter<byte> writer)
    {
        _ = PayloadLengthFor(Partitions.Count);
        PeerPayloadWriter.WriteInt32(writer, SegmentCount);
        PeerPayloadWriter.WriteInt32(writer, FanOut);
        PeerPayloadWriter.WriteInt32(writer, Partitions.Count);
        foreach (PartitionId partition in Partitions)
        {
            PeerPayloadWriter.WriteInt32(writer, partition.Value);
        }
    }

    public static MerkleRootsRequest Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        int segmentCount = reader.ReadInt32("segmentCount");
        int fanOut = reader.ReadInt32("fanOut");
        int count = reader.ReadInt32("count");
        if (segmentCount < 0 || fanOut < 0)
        {
            throw new PeerProtocolException($"{MessageType} payload: a field is negative");
        }

        // Checked against the payload before allocating: a corrupt count never allocates more than the frame holds.
        if (count < 0 || count > PeerLimits.MaxMerkleRoots || count > (payload.Length - 12) / 4)
        {
            throw new PeerProtocolException($"{MessageType} payload: field 'count' {count} exceeds its limit of {PeerLimits.MaxMerkleRoots} or the payload");
        }

        var partitions = new PartitionId[count];
        int previous = -1;
        for (int i = 0; i < count; i++)
        {
            int partition = reader.ReadInt32("partition");
            if (partition <= previous)
            {
                throw new PeerProtocolException($"{MessageType} payload: partition {partition} is negative or not above the one before it ({previous})");
            }

            partitions[i] = new PartitionId(partition);
            previous = partition;
        }

        reader.EnsureEnd();
        return new MerkleRootsRequest(segmentCount, fanOut, partitions);
    }
}
