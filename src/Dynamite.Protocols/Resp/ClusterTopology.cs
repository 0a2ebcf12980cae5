namespace Dynamite.Protocols.Resp;

/// <summary>A cluster member as CLUSTER SLOTS, SHARDS and NODES describe it to clients.</summary>
/// <param name="Id">Its node id.</param>
/// <param name="Host">The host clients connect to (empty when the member has not said).</param>
/// <param name="Port">The port clients connect to (0 when not said).</param>
/// <param name="Reachable">False while this node's failure detector holds it down.</param>
public sealed record ClusterTopologyNode(string Id, string Host, int Port, bool Reachable);

/// <summary>A range of hash slots and the nodes that coordinate its keys, in preference order (the first is its "master").</summary>
public sealed record ClusterSlotRange(int First, int Last, IReadOnlyList<ClusterTopologyNode> Nodes);

/// <summary>
/// What a cluster node tells cluster-aware clients (CLUSTER SLOTS, SHARDS, NODES, INFO, MYID): itself, the members, and
/// each slot range with its replicas in preference order. Any node serves any key, so this only saves the clients a hop
/// and spreads their load; it changes as the ring does.
/// </summary>
public sealed record ClusterTopology(string SelfId, long Epoch, IReadOnlyList<ClusterTopologyNode> Nodes, IReadOnlyList<ClusterSlotRange> Ranges);
