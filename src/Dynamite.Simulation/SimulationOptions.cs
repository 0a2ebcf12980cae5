using Dynamite.Core.Coordination;

namespace Dynamite.Simulation;

/// <summary>
/// The shape of one simulated run. Defaults: 5 nodes, N=3, R=W=2 (so one node's copy can be wiped and an
/// acknowledged write still has another durable copy), 20 simulated seconds of workload with faults, then
/// healing, hint draining and a final full repair.
/// </summary>
public sealed record SimulationOptions
{
    public int NodeCount { get; init; } = 5;

    public int ReplicationFactor { get; init; } = 3;

    public int ReadQuorum { get; init; } = 2;

    public int WriteQuorum { get; init; } = 2;

    /// <summary>Hinted handoff on (as on a server by default); off, the hint-gap checker has nothing to hold it to.</summary>
    public bool HintedHandoff { get; init; } = true;

    /// <summary>Whether reads repair the replicas they found stale (on by default, as on a server).</summary>
    public bool ReadRepair { get; init; } = true;

    /// <summary>Which replicas a read asks (the node's default: R of them, its own copy first).</summary>
    public ReadFanout ReadFanout { get; init; } = ReadFanout.Quorum;

    /// <summary>After this long without a reply from a replica a read asked, a stand-by is asked too (speculative retry).</summary>
    public long SpeculativeReadDelayMs { get; init; } = 100;

    /// <summary>Q: 2^Q partitions.</summary>
    public int PartitionBits { get; init; } = 4;

    /// <summary>Keys written with the Dynamo API (read, then write with the read's context).</summary>
    public int DynamoKeys { get; init; } = 4;

    /// <summary>Keys written with plain last-writer-wins puts (no context: the coordinator's copy is superseded).</summary>
    public int LastWriterWinsKeys { get; init; } = 3;

    public int Clients { get; init; } = 4;

    /// <summary>
    /// Keys of the set workload (Jepsen's set test): clients add unique elements by reading the set and writing
    /// it back with one more element and the read's context. 0 (the default) leaves the set workload out, so the
    /// seeds of the other workloads keep their histories.
    /// </summary>
    public int SetKeys { get; init; }

    /// <summary>
    /// Keys of the typed-set workload: clients send <c>SADD</c> of unique members and <c>SREM</c> of members whose add
    /// was acknowledged, as deltas through the coordinator (docs/DATA-TYPES.md). 0 (the default) leaves it out.
    /// </summary>
    public int TypedSetKeys { get; init; }

    /// <summary>Counters the workload increments (INCRBY as deltas through a primary; <see cref="CounterChecker"/>); 0: none.</summary>
    public int CounterKeys { get; init; }

    /// <summary>
    /// Sorted sets and lists of the collection workload, this many of each: clients send the front end's own <c>ZADD</c>,
    /// <c>ZREM</c>, <c>LPUSH</c> and <c>RPUSH</c> operations as deltas through a primary (<see cref="CollectionChecker"/>);
    /// 0 (the default) leaves it out, so the seeds of the other workloads keep their histories.
    /// </summary>
    public int CollectionKeys { get; init; }

    /// <summary>How a set client reads the set; see <see cref="Simulation.SetPolicy"/>.</summary>
    public SetPolicy SetPolicy { get; init; } = SetPolicy.Siblings;

    /// <summary>How long clients issue operations and faults are injected.</summary>
    public long WorkloadMs { get; init; } = 20_000;

    /// <summary>A client waits between operations for up to this long.</summary>
    public long MaxThinkMs { get; init; } = 300;

    /// <summary>A client gives up on an operation after this long; its outcome is then unknown (indeterminate).</summary>
    public long ClientTimeoutMs { get; init; } = 5_000;

    public FaultKinds Faults { get; init; } = FaultKinds.All;

    /// <summary>
    /// The membership schedule (<see cref="MembershipSchedule"/>): a spare node joins, a member leaves, a member
    /// crashes for good and is removed, among the other faults. Off by default, so the other schedules keep their seeds.
    /// </summary>
    public bool MembershipChanges { get; init; }

    /// <summary>Mean time between two injected faults (node and partition faults).</summary>
    public long MeanFaultIntervalMs { get; init; } = 2_000;

    /// <summary>An injected fault lasts up to this long before it heals.</summary>
    public long MaxFaultDurationMs { get; init; } = 5_000;

    /// <summary>At most this many wipes per run: two wiped copies of a W=2 write lose it legitimately.</summary>
    public int MaxWipes { get; init; } = 1;

    public long MinDelayMs { get; init; } = 1;

    public long MaxDelayMs { get; init; } = 20;

    /// <summary>With <see cref="FaultKinds.Reordering"/>, the extra delay of a delayed message is up to this long.</summary>
    public long MaxReorderDelayMs { get; init; } = 1_500;

    public double LossRate { get; init; } = 0.05;

    public double DuplicationRate { get; init; } = 0.05;

    public double ReorderRate { get; init; } = 0.05;

    /// <summary>With <see cref="FaultKinds.ClockSkew"/>, a node's clock is off by up to this much either way.</summary>
    public long MaxClockSkewMs { get; init; } = 10_000;

    /// <summary>A replica request (read, write, hint replay) fails after this long without an answer.</summary>
    public long RequestTimeoutMs { get; init; } = 1_000;

    /// <summary>Failure detector ping interval and timeout (FailureDetectorLoop's defaults).</summary>
    public long PingIntervalMs { get; init; } = 500;

    public long PingTimeoutMs { get; init; } = 1_000;

    /// <summary>Gossip round interval (the runtime's default).</summary>
    public long GossipIntervalMs { get; init; } = 1_000;

    /// <summary>
    /// Anti-entropy round interval; 0 (the default) turns the background rounds off, so that the default schedule
    /// checks what hinted handoff and read repair do on their own (a missing hint is not papered over). Partition
    /// handoff, warm-up and release exchange partitions whatever this says.
    /// </summary>
    public long AntiEntropyIntervalMs { get; init; }

    /// <summary>
    /// Whether a node's simulated listener hands a replica's puts over in runs, as the real listener does with the puts
    /// of one read (<see cref="SimulatedRequestDispatch"/>): one sender's puts of one instant. On by default, as in
    /// production; it was off until the lost remove its histories found was fixed (docs/simulation-findings-2026-12-07.md).
    /// </summary>
    public bool PeerRequestRuns { get; init; } = true;

    /// <summary>How long the nodes may take to find each other and found the cluster before the run is declared stuck.</summary>
    public long FormationLimitMs { get; init; } = 30_000;

    /// <summary>After healing, how long the run may take to drain hints and repair before it is declared stuck.</summary>
    public long SettleLimitMs { get; init; } = 60_000;

    /// <summary>Trace lines kept (the last ones).</summary>
    public int TraceCapacity { get; init; } = 400;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(NodeCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ReplicationFactor, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ReadQuorum, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(WriteQuorum, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Clients, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(SetKeys);
        ArgumentOutOfRangeException.ThrowIfNegative(TypedSetKeys);
        ArgumentOutOfRangeException.ThrowIfNegative(CollectionKeys);
        ArgumentOutOfRangeException.ThrowIfNegative(CounterKeys);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDelayMs, MinDelayMs);
        ArgumentOutOfRangeException.ThrowIfNegative(MinDelayMs);
    }
}
