using Dynamite.Cluster.Transport;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Storage;

namespace Dynamite.Cluster.AntiEntropy;

/// <summary>
/// The replica side of an exchange: answers root comparisons and tree level requests from this node's trees and
/// segment key listings from its engine. A request for a tree of
/// another shape (segment count, fan-out) is refused: its hashes could never match. Also serves tombstone
/// collection: key digests for the collector, and its conditional deletes (<see cref="TombstoneCollector"/>).
/// </summary>
public sealed class AntiEntropyRequestHandler(
    AntiEntropyTrees trees,
    IStorageEngine engine,
    TimeProvider clock,
    TombstoneCollector collector) : IPeerService
{
    public IReadOnlyList<PeerMessageType> Serves { get; } =
        [
            PeerMessageType.MerkleRootsRequest,
            PeerMessageType.MerkleLevelRequest,
            PeerMessageType.SegmentKeysRequest,
            PeerMessageType.TombstoneDigestRequest,
            PeerMessageType.CollectTombstones,
        ];

    public async ValueTask HandleAsync(PeerIncomingRequest request, IPeerReplySink reply, CancellationToken connectionClosed)
    {
        ArgumentNullException.ThrowIfNull(reply);
        IPeerPayload answer;
        try
        {
            answer = request.Type switch
            {
                PeerMessageType.MerkleRootsRequest => Roots(request.Read<MerkleRootsRequest>()),
                PeerMessageType.MerkleLevelRequest => Levels(request.Read<MerkleLevelRequest>()),
                PeerMessageType.SegmentKeysRequest => Keys(request.Read<SegmentKeysRequest>()),
                PeerMessageType.TombstoneDigestRequest => collector.DigestsOf(request.Read<TombstoneDigestRequest>().Keys),
                _ => new CollectTombstonesAck(await collector.ApplyAsync(request.Read<CollectTombstones>().Keys, connectionClosed)),
            };
        }
        catch (Exception exception) when (exception is PeerProtocolException or ArgumentException)
        {
            answer = ErrorMessage.Create(PeerErrorCode.MalformedPayload, exception.Message);
        }

        reply.Reply(request.RequestId, answer);
    }

    private IPeerPayload Roots(MerkleRootsRequest request)
    {
        if (request.SegmentCount != trees.SegmentCount || request.FanOut != trees.FanOut)
        {
            return ErrorMessage.Create(PeerErrorCode.MalformedPayload, $"tree shape differs: {trees.SegmentCount} segments, fan-out {trees.FanOut} here");
        }

        // The decoder checked the partitions ascend, so the last is the largest.
        if (request.Partitions.Count > 0 && request.Partitions[^1].Value >= trees.PartitionCount)
        {
            return ErrorMessage.Create(PeerErrorCode.MalformedPayload, $"no partition {request.Partitions[^1]} (this node has {trees.PartitionCount})");
        }

        return new MerkleRootsReply(trees.Roots(request.Partitions));
    }

    private IPeerPayload Levels(MerkleLevelRequest request)
    {
        if (request.Partition.Value < 0 || request.Partition.Value >= trees.PartitionCount)
        {
            return ErrorMessage.Create(PeerErrorCode.MalformedPayload, $"no partition {request.Partition}");
        }

        return trees.With(request.Partition, tree =>
        {
            if (tree.SegmentCount != request.SegmentCount || tree.FanOut != request.FanOut)
            {
                return (IPeerPayload)ErrorMessage.Create(PeerErrorCode.MalformedPayload, $"tree shape differs: {tree.SegmentCount} segments, fan-out {tree.FanOut} here");
            }

            return new MerkleLevelReply(tree.GetLevel(request.Level, request.FromIndex, request.Count));
        });
    }

    private IPeerPayload Keys(SegmentKeysRequest request)
    {
        if (request.Partition.Value < 0 || request.Partition.Value >= trees.PartitionCount)
        {
            return ErrorMessage.Create(PeerErrorCode.MalformedPayload, $"no partition {request.Partition}");
        }

        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        return new SegmentKeysReply(trees.SegmentKeys(engine, request.Partition, request.Segment, now));
    }
}
