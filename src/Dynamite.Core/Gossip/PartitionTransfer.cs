using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;

namespace Dynamite.Core.Gossip;

/// <summary>
/// One partition moving from its current owner to its pending owner (online handoff). When
/// <paramref name="FromReplicas"/> is true the old owner is down or removed, so the new owner
/// pulls the partition from the other replicas instead of having it streamed (warm-up).
/// </summary>
public sealed record PartitionTransfer(PartitionId Partition, NodeId From, NodeId To, bool FromReplicas);
