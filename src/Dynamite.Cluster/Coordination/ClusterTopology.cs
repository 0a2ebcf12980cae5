using Dynamite.Cluster.Transport;
using Dynamite.Core.Membership;
using Dynamite.Core.Ring;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// What the coordinator asks of membership: the partition map (null until the node belongs to a cluster),
/// the map a pending plan moves towards, and a connection to each peer. Gossip membership implements it.
/// </summary>
public interface IClusterTopology
{
    /// <summary>The current partition map, or null while the cluster is not fully known yet.</summary>
    PartitionMap? Map { get; }

    /// <summary>
    /// The map of the ownership plan in progress, or null. Writes also go to the nodes that gain a replica under
    /// it, so a new replica misses nothing between its copy and the switch.
    /// </summary>
    PartitionMap? PendingMap { get; }

    /// <summary>False while this node warms up (its own copy is incomplete): reads must not count it.</summary>
    bool ServesLocalReads { get; }

    /// <summary>Why <see cref="Map"/> is null, for the error a client sees.</summary>
    string NotReadyReason { get; }

    /// <summary>The connection to a peer, or null if the node is not a known peer.</summary>
    IPeerClient? ClientFor(NodeId node);

    /// <summary>Whether the node is a member of the cluster (known and not removed); this node is while it has not left.</summary>
    bool IsMember(NodeId node);

    /// <summary>Whether the failure detector currently sees the node as up (this node always is).</summary>
    bool IsReachable(NodeId node);

    /// <summary>Changes whenever any node's reachability may have changed, so derived views (preference lists) know to rebuild.</summary>
    long ReachabilityVersion { get; }
}
