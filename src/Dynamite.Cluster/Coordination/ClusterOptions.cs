using Dynamite.Core.Coordination;
using Dynamite.Core.Membership;

namespace Dynamite.Cluster.Coordination;

/// <summary>What a node's coordinator needs to know about the cluster and its defaults.</summary>
public sealed record ClusterOptions
{
    /// <summary>This node: its id, datacenter and rack.</summary>
    public required NodeDescriptor Self { get; init; }

    /// <summary>
    /// The id this node's writes are stamped with in version vectors: the node id plus an incarnation that
    /// changes when the node's data is wiped, so a node that lost its data never reuses a dot it issued
    /// before (Riak's vnode epochs solve the same problem). <see cref="Node.ClusterNode"/> sets it from the data's
    /// incarnation; unset, the coordinator uses the node id (one incarnation: tests and benchmarks).
    /// </summary>
    public NodeId Actor { get; init; }

    /// <summary>Q: the key space has 2^Q partitions (the same on every node).</summary>
    public int PartitionBits { get; init; } = 8;

    /// <summary>N: replicas per key in this datacenter.</summary>
    public int ReplicationFactor { get; init; } = 3;

    /// <summary>R: replies a read waits for by default.</summary>
    public int ReadQuorum { get; init; } = 2;

    /// <summary>W: acknowledgements a write waits for by default (the coordinator's own write counts).</summary>
    public int WriteQuorum { get; init; } = 2;

    /// <summary>Whether writes for unreachable replicas are kept as durable hints and replayed (Dynamo §4.6).</summary>
    public bool HintedHandoff { get; init; } = true;

    /// <summary>Whether a read sends the merged object to replicas that answered with an older one.</summary>
    public bool ReadRepair { get; init; } = true;

    /// <summary>Which replicas a quorum read asks: R of them, this node's own copy first (the default), or all N.</summary>
    public ReadFanout ReadFanout { get; init; } = ReadFanout.Quorum;

    /// <summary>
    /// How long a quorum read waits for a replica it asked before also asking a stand-by (speculative retry, as in
    /// Cassandra), so a paused or lossy replica costs a read this much rather than the whole request timeout until
    /// the failure detector notices. Checked by the peer connection's sweep, so up to 50 ms later.
    /// </summary>
    public TimeSpan SpeculativeReadDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a replica request may take before it counts as a failure.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Most replica writes in flight from this node (those a client no longer waits for included). When it
    /// is reached new writes wait: back-pressure instead of an unbounded queue or a dropped write.
    /// </summary>
    public int MaxReplicaWritesInFlight { get; init; } = 4096;
}
