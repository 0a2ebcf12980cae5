using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Core.AntiEntropy;

/// <summary>
/// The first step of an anti-entropy round with one peer: compare the Merkle roots of every partition the two
/// nodes share in a few round trips, so that only partitions whose roots differ go on to a
/// <see cref="MerkleExchange"/> (Dynamo §4.7: equal roots mean no synchronization). Riak's hashtree exchange
/// compares roots first in the same way. Pure: the runtime sends <see cref="Requests"/>, reads its local roots when
/// each reply arrives (as <see cref="MerkleExchange"/> reads its local tree at reply time) and calls
/// <see cref="Differing"/>.
/// <code>
///   initiator                                          replica
///   Requests([p0 … p255])  ── roots of p0 … p255 ──►
///                          ◄── [r0 … r255] ───────
///   Differing(…)           → [p17]                     only p17 goes on to a MerkleExchange
/// </code>
/// An idle cluster of 2^Q partitions thus costs one request per peer per round instead of 2^Q.
/// </summary>
public static class MerkleRootComparison
{
    /// <summary>
    /// Partitions per request: 1,024 (a 12 KiB request, an 8 KiB reply), so the default ring (2^8 partitions) needs one
    /// request per peer, and even the largest needs 64 of bounded size. At most <see cref="PeerLimits.MaxMerkleRoots"/>.
    /// </summary>
    public const int DefaultBatchSize = 1024;

    /// <summary>
    /// The requests that ask a peer for the roots of <paramref name="partitions"/> (each at most once, in ascending
    /// order, as the wire format requires), in batches of at most <paramref name="batchSize"/>; none for no partitions.
    /// </summary>
    public static IReadOnlyList<MerkleRootsRequest> Requests(IEnumerable<PartitionId> partitions, int segmentCount, int fanOut, int batchSize = DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, PeerLimits.MaxMerkleRoots);
        var requests = new List<MerkleRootsRequest>();
        var batch = new List<PartitionId>();
        foreach (int partition in partitions.Select(p => p.Value).Distinct().Order())
        {
            ArgumentOutOfRangeException.ThrowIfNegative(partition, nameof(partitions));
            batch.Add(new PartitionId(partition));
            if (batch.Count == batchSize)
            {
                requests.Add(new MerkleRootsRequest(segmentCount, fanOut, batch));
                batch = [];
            }
        }

        if (batch.Count > 0)
        {
            requests.Add(new MerkleRootsRequest(segmentCount, fanOut, batch));
        }

        return requests;
    }

    /// <summary>
    /// The partitions of <paramref name="request"/> whose local root (<paramref name="localRoots"/>, in request order)
    /// differs from the peer's (<paramref name="reply"/>), in request order.
    /// </summary>
    /// <exception cref="PeerProtocolException">The reply does not carry one root per requested partition.</exception>
    public static IReadOnlyList<PartitionId> Differing(MerkleRootsRequest request, ReadOnlySpan<ulong> localRoots, MerkleRootsReply reply)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(reply);
        if (localRoots.Length != request.Partitions.Count)
        {
            throw new ArgumentException($"{localRoots.Length} local roots for {request.Partitions.Count} partitions", nameof(localRoots));
        }

        ReadOnlySpan<ulong> remoteRoots = reply.Roots.Span;
        if (remoteRoots.Length != request.Partitions.Count)
        {
            throw new PeerProtocolException($"Merkle roots: asked for {request.Partitions.Count} partitions, got {remoteRoots.Length} roots");
        }

        var differing = new List<PartitionId>();
        for (int i = 0; i < remoteRoots.Length; i++)
        {
            if (localRoots[i] != remoteRoots[i])
            {
                differing.Add(request.Partitions[i]);
            }
        }

        return differing;
    }
}
