using System.Collections.Immutable;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;

namespace Dynamite.Core.Gossip;

/// <summary>
/// What a pending plan asks of each node's data. A partition's replicas are the first N nodes of its
/// datacenter's walk (<see cref="PreferenceListBuilder.PrimariesOf"/>), so moving one partition's owner
/// also changes the replica sets of the partitions just before it. A node <em>gains</em> a partition
/// when it is a replica under the pending map and was not under the current one: it must copy that
/// partition from the current replicas (the sources) before the plan may complete. Only gains matter:
/// a node that loses a partition keeps its copy, which is harmless.
/// Pure and deterministic: every node computes the same gains from the same ring.
/// </summary>
public static class HandoffPlan
{
    /// <summary>The partitions <paramref name="node"/> gains moving from <paramref name="current"/> to <paramref name="pending"/>, in order.</summary>
    public static IReadOnlyList<PartitionId> GainedBy(PartitionMap current, PartitionMap pending, NodeId node, int replicas)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(pending);
        var gained = new List<PartitionId>();
        if (!pending.TryGetMember(node, out NodeDescriptor? self))
        {
            return gained;
        }

        for (int p = 0; p < pending.PartitionCount; p++)
        {
            var partition = new PartitionId(p);
            if (PreferenceListBuilder.PrimariesOf(pending, partition, self!.Datacenter, replicas).Contains(node)
                && !IsReplica(current, partition, self, replicas))
            {
                gained.Add(partition);
            }
        }

        return gained;
    }

    /// <summary>The partitions <paramref name="node"/> is a replica of under <paramref name="map"/> (in its own datacenter), in order.</summary>
    public static IReadOnlyList<PartitionId> ReplicatedBy(PartitionMap map, NodeId node, int replicas)
    {
        ArgumentNullException.ThrowIfNull(map);
        var partitions = new List<PartitionId>();
        if (!map.TryGetMember(node, out NodeDescriptor? self))
        {
            return partitions;
        }

        for (int p = 0; p < map.PartitionCount; p++)
        {
            if (IsReplica(map, new PartitionId(p), self!, replicas))
            {
                partitions.Add(new PartitionId(p));
            }
        }

        return partitions;
    }

    /// <summary>Every node that gains at least one partition: the nodes the plan waits for.</summary>
    public static ImmutableSortedSet<NodeId> Gainers(PartitionMap current, PartitionMap pending, int replicas)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(pending);
        ImmutableSortedSet<NodeId>.Builder gainers = ImmutableSortedSet.CreateBuilder<NodeId>();
        var datacenters = new HashSet<string>(StringComparer.Ordinal);
        foreach (NodeDescriptor member in pending.Members)
        {
            datacenters.Add(member.Datacenter);
        }

        for (int p = 0; p < pending.PartitionCount; p++)
        {
            var partition = new PartitionId(p);
            foreach (string datacenter in datacenters)
            {
                foreach (NodeId replica in PreferenceListBuilder.PrimariesOf(pending, partition, datacenter, replicas))
                {
                    if (!gainers.Contains(replica) && !IsReplica(current, partition, pending.GetMember(replica), replicas))
                    {
                        gainers.Add(replica);
                    }
                }
            }
        }

        return gainers.ToImmutable();
    }

    /// <summary>
    /// Where a gained partition's data is: its replicas in <paramref name="datacenter"/> under the current map.
    /// Empty when the datacenter had no members before (a new datacenter starts empty).
    /// </summary>
    public static ImmutableArray<NodeId> SourcesOf(PartitionMap current, PartitionId partition, string datacenter, int replicas)
    {
        ArgumentNullException.ThrowIfNull(current);
        foreach (NodeDescriptor member in current.Members)
        {
            if (string.Equals(member.Datacenter, datacenter, StringComparison.Ordinal))
            {
                return PreferenceListBuilder.PrimariesOf(current, partition, datacenter, replicas);
            }
        }

        return [];
    }

    /// <summary>True when every node the pending plan of <paramref name="ring"/> waits for has reported its copies complete.</summary>
    public static bool IsComplete(RingState ring, int replicas)
    {
        ArgumentNullException.ThrowIfNull(ring);
        return ring.Pending is not null && Gainers(ring.Current, ring.Pending, replicas).IsSubsetOf(ring.Ready);
    }

    private static bool IsReplica(PartitionMap map, PartitionId partition, NodeDescriptor node, int replicas) =>
        map.IsMember(node.Id) && PreferenceListBuilder.PrimariesOf(map, partition, node.Datacenter, replicas).Contains(node.Id);
}
