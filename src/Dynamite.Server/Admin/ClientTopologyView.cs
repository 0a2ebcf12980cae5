using System.Net;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;
using Dynamite.Protocols.Resp;
using Dynamite.Server.Hosting;

namespace Dynamite.Server.Admin;

/// <summary>
/// The cluster as cluster-aware Redis clients see it (CLUSTER SLOTS, SHARDS, NODES): each partition is a contiguous
/// range of hash slots whose nodes are its primaries in preference order, the first of them its "master"; adjacent
/// partitions with the same nodes are one range. Members come with the client address they announce; the epoch is the
/// ring's version, so a client that compares epochs sees each ring change.
/// </summary>
public sealed class ClientTopologyView(ClusterServices cluster)
{
    /// <summary>The topology now; null until the node has a ring.</summary>
    public ClusterTopology? Snapshot()
    {
        ClusterState state = cluster.Membership.State;
        PartitionMap? map = cluster.Membership.Map;
        if (map is null)
        {
            return null;
        }

        var nodes = new Dictionary<NodeId, ClusterTopologyNode>();
        foreach (MemberRecord member in state.Members.Values)
        {
            if (member.Status != MemberStatus.Removed)
            {
                nodes[member.Id] = Describe(member);
            }
        }

        int slotsPerPartition = HashSlot.Count >> map.PartitionBits;
        var ranges = new List<ClusterSlotRange>();
        for (int partition = 0; partition < map.PartitionCount; partition++)
        {
            IReadOnlyList<ClusterTopologyNode> owners = [.. PreferenceListBuilder
                .PrimariesOf(map, new PartitionId(partition), cluster.Configuration.Datacenter, cluster.Configuration.ReplicationFactor)
                .Where(nodes.ContainsKey)
                .Select(id => nodes[id])];
            int first = partition * slotsPerPartition;
            int last = first + slotsPerPartition - 1;
            if (ranges.Count > 0 && ranges[^1].Nodes.SequenceEqual(owners))
            {
                ranges[^1] = ranges[^1] with { Last = last };
            }
            else
            {
                ranges.Add(new ClusterSlotRange(first, last, owners));
            }
        }

        return new ClusterTopology(cluster.Configuration.NodeId, state.RingVersion, [.. nodes.Values], ranges);
    }

    private static ClusterTopologyNode Describe(MemberRecord member) =>
        IPEndPoint.TryParse(member.ClientAddress, out IPEndPoint? endpoint)
            ? new ClusterTopologyNode(member.Id.Value, endpoint.Address.ToString(), endpoint.Port, member.Status != MemberStatus.Down)
            : new ClusterTopologyNode(member.Id.Value, "", 0, member.Status != MemberStatus.Down);
}
