using Dynamite.Cluster.Metrics;
using Dynamite.Cluster.Node;
using Dynamite.Cluster.Replication;
using Dynamite.Core.Membership;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// The coordinator every node runs for any key (Dynamo §4.5): finds the key's preference list, sends the
/// request to its replicas, waits for R replies or W acknowledgements, and answers. The quorum arithmetic is
/// the core's (<see cref="GetQuorum"/>, <see cref="PutQuorum"/>, <see cref="ReadRepairPlan"/>,
/// <see cref="PreferenceListBuilder"/>); this class only moves messages.
/// <para>
/// Writes are coordinated by a replica (this node when it is in the preference list): it applies the write
/// to its own copy atomically, which makes its dot unique, then sends the resulting object to the other
/// replicas. A replica write that cannot be delivered - the primary is down and no fallback is free, the
/// request failed or timed out, even after the client got its answer - becomes a durable hint replayed
/// later (<see cref="HintedHandoff"/>): a replica write is never dropped silently.
/// </para>
/// Thread-safety: every method may be called concurrently; its metrics are instruments (<see cref="ClusterMetrics"/>).
/// </summary>
public sealed partial class ClusterCoordinator : IDisposable
{
    private readonly ClusterOptions _options;
    private readonly IClusterTopology _topology;
    private readonly ReplicaStore _local;
    private readonly HintStore? _hints;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _replicaWriteSlots;
    private readonly ClusterMetrics? _metrics;
    private readonly NodeId _fixedActor;
    private readonly DataIncarnation? _incarnation;
    private readonly PreferenceLists _lists;
    private readonly WriteForwarder _forwarder;
    private readonly ReadRepairer _repairer;

    /// <param name="options">The node's replication settings.</param>
    /// <param name="topology">The partition maps, reachability and peer connections.</param>
    /// <param name="local">This node's replicas.</param>
    /// <param name="hints">Where undelivered replica writes are kept (used when hinted handoff is on).</param>
    /// <param name="logger">The coordinator's log.</param>
    /// <param name="metrics">Where read repairs, hints, speculative reads, failures and replica request times are recorded; null: not measured.</param>
    /// <param name="incarnation">The node's current actor (renewed when the node forgets dots); null: <see cref="ClusterOptions.Actor"/> for good.</param>
    public ClusterCoordinator(ClusterOptions options, IClusterTopology topology, ReplicaStore local, HintStore? hints, ILogger<ClusterCoordinator> logger, ClusterMetrics? metrics = null, DataIncarnation? incarnation = null)
    {
        _metrics = metrics;
        _options = options;
        _topology = topology;
        _local = local;
        _hints = options.HintedHandoff ? hints : null;
        _fixedActor = options.Actor.Value is null ? options.Self.Id : options.Actor;
        _incarnation = incarnation;
        _lists = new PreferenceLists(options, topology);
        _forwarder = new WriteForwarder(topology, options.RequestTimeout);
        _repairer = new ReadRepairer(options, topology, local, logger, metrics);
        _logger = logger;
        _replicaWriteSlots = new SemaphoreSlim(options.MaxReplicaWritesInFlight, options.MaxReplicaWritesInFlight);
    }

    /// <summary>How a node refuses a forwarded write for a key it holds no replica of; the forwarder then tries the next replica.</summary>
    internal const string NotAReplicaPrefix = "NOQUORUM node";

    public ClusterOptions Options => _options;

    /// <summary>Where replica requests are timed and failures counted; null: not recorded.</summary>
    internal ClusterMetrics? Metrics => _metrics;

    internal ILogger Logger => _logger;

    public ReplicaStore LocalReplica => _local;

    /// <summary>The actor of the dots this node issues now: read for each write, since it changes when the node forgets dots.</summary>
    private NodeId CurrentActor => _incarnation?.Actor ?? _fixedActor;

    /// <summary>Replica writes sent and not yet answered (<see cref="ClusterMetrics.ReplicaWritesInFlight"/> observes it).</summary>
    public int ReplicaWritesInFlight => _options.MaxReplicaWritesInFlight - _replicaWriteSlots.CurrentCount;

    public void Dispose() => _replicaWriteSlots.Dispose();

    internal static string Unreachable(PreferenceList list) =>
        list.UnreachablePrimaries.IsEmpty ? "" : "; unreachable: " + string.Join(", ", list.UnreachablePrimaries);
}
