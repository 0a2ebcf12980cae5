using Dynamite.Cluster.Coordination;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;

namespace Dynamite.Cluster.Node;

/// <summary>Everything a cluster node's runtime is configured with; the server maps its configuration onto this, the simulation its options.</summary>
public sealed record ClusterNodeOptions
{
    /// <summary>The coordinator's settings: this node, Q, N, R, W, hinted handoff, read repair and fan-out, timeouts. Its actor is set by the node.</summary>
    public required ClusterOptions Cluster { get; init; }

    /// <summary>This node: its id, datacenter and rack.</summary>
    public NodeDescriptor Self => Cluster.Self;

    /// <summary>The peer address other nodes reach this one at (HOST:PORT).</summary>
    public required string AdvertisedAddress { get; init; }

    /// <summary>The "host:port" Redis clients reach this node at, as CLUSTER SLOTS and NODES announce it; empty: not said.</summary>
    public string ClientAddress { get; init; } = "";

    /// <summary>Peer addresses of the seeds; none (or only this node) founds a cluster of one.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    public bool AntiEntropy { get; init; } = true;

    public TimeSpan AntiEntropyInterval { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan TombstoneGrace { get; init; } = TimeSpan.FromDays(1);

    /// <summary>Most keys per second copied in by partition handoff and warm-up.</summary>
    public int HandoffKeysPerSecond { get; init; } = 20_000;

    /// <summary>The engine keeps nothing across restarts (the memory engine): the node warms up after every start.</summary>
    public bool VolatileData { get; init; }

    public GossipOptions Gossip { get; init; } = new();

    public TimeSpan PingInterval { get; init; } = Membership.FailureDetectorLoop.DefaultInterval;

    public TimeSpan PingTimeout { get; init; } = Membership.FailureDetectorLoop.DefaultPingTimeout;
}
