using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;
using Dynamite.Protocols.Resp;
using Dynamite.Server.Hosting;

namespace Dynamite.Server.Admin;

/// <summary>
/// The cluster as cluster-aware Redis clients see it (CLUSTER SLOTS, SHARDS, NODES): each partition is a contiguous
/// range of hash slots whose "master" is its first primary in preference order that this node does not hold down, so
/// a client that refreshes its topology while a node is down sends that node's ranges to the next primary. Adjacent
/// partitions with the same nodes are one range. Members come with the client address they announce; the epoch is the
/// ring's version, so a client that compares epochs sees each ring change.
/// </summary>
/// <remarks>
/// The other primaries follow the master as its replicas only with <c>cluster-announce-replicas on</c>. A Dynamo node
/// is a primary of some ranges and a replica of others, while Redis Cluster clients give each node one role:
/// StackExchange.Redis 3.x takes the role a node has where CLUSTER SLOTS first lists it, so with replicas listed it
/// sees every node but one as a replica and sends every key to that one. Listing masters only keeps every node a
/// master, agreeing with CLUSTER NODES; clients that read from replicas range by range can ask for the replicas.
/// </remarks>
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
            IReadOnlyList<ClusterTopologyNode> owners = Announced([.. PreferenceListBuilder
                .PrimariesOf(map, new PartitionId(partition), cluster.Configuration.Datacenter, cluster.Configuration.ReplicationFactor)
                .Where(nodes.ContainsKey)
                .Select(id => nodes[id])]);
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

    /// <summary>A range's primaries as announced: the serving ones first (in preference order), then only the master unless replicas are announced.</summary>
    private IReadOnlyList<ClusterTopologyNode> Announced(List<ClusterTopologyNode> primaries)
    {
        List<ClusterTopologyNode> ordered = [.. primaries.Where(Serving), .. primaries.Where(n => !Serving(n))];
        return cluster.Configuration.ClusterAnnounceReplicas || ordered.Count <= 1 ? ordered : [ordered[0]];
    }

    /// <summary>Reachable, and with a client address a client can be sent to.</summary>
    private static bool Serving(ClusterTopologyNode node) => node.Reachable && node.Port > 0;

    private static ClusterTopologyNode Describe(MemberRecord member) =>
        AnnouncedClientAddress.Parse(member.ClientAddress) is { } address
            ? new ClusterTopologyNode(member.Id.Value, address.Host, address.Port, member.Status != MemberStatus.Down, address.TlsPort)
            : new ClusterTopologyNode(member.Id.Value, "", 0, member.Status != MemberStatus.Down);
}
