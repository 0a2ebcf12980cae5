namespace Dynamite.Protocols.Resp;

/// <summary>A cluster member as CLUSTER SLOTS, SHARDS and NODES describe it to clients.</summary>
/// <param name="Id">Its node id.</param>
/// <param name="Host">The host clients connect to (empty when the member has not said).</param>
/// <param name="Port">The port clients connect to (0 when not said): the plain one, or the TLS one when it has no plain port.</param>
/// <param name="Reachable">False while this node's failure detector holds it down.</param>
/// <param name="TlsPort">Its TLS port (0: none).</param>
public sealed record ClusterTopologyNode(string Id, string Host, int Port, bool Reachable, int TlsPort = 0)
{
    /// <summary>
    /// The port to send a client to: a TLS client gets TLS ports and a plaintext client plain ones, as redis-server with
    /// <c>tls-cluster yes</c> answers, so both kinds of clients follow the topology during a move to TLS.
    /// </summary>
    public int PortFor(bool tls) => tls && TlsPort > 0 ? TlsPort : Port;

    /// <summary>Its plain port; 0 when it only serves TLS.</summary>
    public int PlainPort => TlsPort > 0 && Port == TlsPort ? 0 : Port;
}

/// <summary>A range of hash slots and the nodes that coordinate its keys, in preference order (the first is its "master").</summary>
public sealed record ClusterSlotRange(int First, int Last, IReadOnlyList<ClusterTopologyNode> Nodes);

/// <summary>
/// What a cluster node tells cluster-aware clients (CLUSTER SLOTS, SHARDS, NODES, INFO, MYID): itself, the members, and
/// each slot range with its replicas in preference order. Any node serves any key, so this only saves the clients a hop
/// and spreads their load; it changes as the ring does.
/// </summary>
public sealed record ClusterTopology(string SelfId, long Epoch, IReadOnlyList<ClusterTopologyNode> Nodes, IReadOnlyList<ClusterSlotRange> Ranges);
