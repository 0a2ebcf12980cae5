using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;

namespace Dynamite.Cluster.AntiEntropy;

/// <summary>The outcome of one Merkle exchange of one partition with one peer.</summary>
/// <param name="Partition">The partition exchanged.</param>
/// <param name="Peer">The other replica.</param>
/// <param name="DifferingSegments">Segments whose hashes differed.</param>
/// <param name="KeysRepaired">Keys written on either side by the repair.</param>
/// <param name="BytesExchanged">Tree hashes and key listings sent both ways (frames included).</param>
/// <param name="Error">Why the exchange failed; null when it completed.</param>
public sealed record ExchangeResult(PartitionId Partition, NodeId Peer, int DifferingSegments, int KeysRepaired, long BytesExchanged, string? Error)
{
    public static ExchangeResult Failure(PartitionId partition, NodeId peer, string error) => new(partition, peer, 0, 0, 0, error);
}
