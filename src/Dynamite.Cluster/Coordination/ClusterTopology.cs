using Dynamite.Cluster.Transport;
using Dynamite.Core.Membership;
using Dynamite.Core.Ring;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// What the coordinator asks of membership: the partition map (null until every member is known) and a
/// connection to each peer. Static membership implements it today; gossip will later.
/// </summary>
public interface IClusterTopology
{
    /// <summary>The current partition map, or null while the cluster is not fully known yet.</summary>
    PartitionMap? Map { get; }

    /// <summary>Why <see cref="Map"/> is null, for the error a client sees.</summary>
    string NotReadyReason { get; }

    /// <summary>The connection to a peer, or null if the node is not a known peer.</summary>
    IPeerClient? ClientFor(NodeId node);

    /// <summary>Whether the failure detector currently sees the node as up (this node always is).</summary>
    bool IsReachable(NodeId node);

    /// <summary>Changes whenever any node's reachability may have changed, so derived views (preference lists) know to rebuild.</summary>
    long ReachabilityVersion { get; }
}
