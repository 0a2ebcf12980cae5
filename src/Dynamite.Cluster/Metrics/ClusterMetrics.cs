using System.Diagnostics;
using System.Diagnostics.Metrics;
using Dynamite.Core.Membership;

namespace Dynamite.Cluster.Metrics;

/// <summary>
/// The cluster runtime's instruments on the node's meter: the one place each of its metrics is defined. The
/// coordinator, hint store, hint replay, anti-entropy, tombstone collection and partition handoff record into
/// them; INFO's cluster section, the admin status and <c>/metrics</c> all read them (through the node's meter
/// listeners), so a value is never kept a second time beside its instrument. The composition root makes one per
/// node; the gauges (<c>Observe*</c>) are registered once the parts they read exist.
/// Names follow OpenTelemetry's conventions (dots between namespaces, the unit separate); Prometheus sees
/// <c>dynamite_hints_stored_total</c>, <c>dynamite_replica_request_duration_seconds</c> and so on.
/// Thread-safe: instruments may be recorded from any thread.
/// </summary>
public sealed class ClusterMetrics
{
    public const string HintsStored = "dynamite.hints.stored";
    public const string HintsReplayed = "dynamite.hints.replayed";
    public const string HintsUnreadable = "dynamite.hints.unreadable";
    public const string HintsPending = "dynamite.hints.pending";
    public const string ReadRepairs = "dynamite.read_repairs";
    public const string SpeculativeReads = "dynamite.speculative_reads";
    public const string ReplicaRequestDuration = "dynamite.replica.request.duration";
    public const string ReplicaWritesInFlight = "dynamite.replica.writes_in_flight";
    public const string ReplicaWriteFailures = "dynamite.replica.write_failures";
    public const string AntiEntropyRounds = "dynamite.aae.rounds";
    public const string AntiEntropyKeysRepaired = "dynamite.aae.keys_repaired";
    public const string AntiEntropyExchanged = "dynamite.aae.exchanged";
    public const string AntiEntropyTreeSize = "dynamite.aae.tree_size";
    public const string TombstonesCollected = "dynamite.tombstones.collected";
    public const string HandoffKeysCopied = "dynamite.handoff.keys_copied";
    public const string HandoffPartitionsPending = "dynamite.handoff.partitions_pending";
    public const string PubSubDropped = "dynamite.pubsub.relay_dropped";

    /// <summary>Bucket bounds in seconds for a replica request: loopback answers in tens of microseconds, the request timeout is seconds.</summary>
    public static readonly IReadOnlyList<double> DurationBuckets =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    private static readonly KeyValuePair<string, object?> ReadTag = new("op", "read");
    private static readonly KeyValuePair<string, object?> WriteTag = new("op", "write");
    private static readonly KeyValuePair<string, object?> OkTag = new("outcome", "ok");
    private static readonly KeyValuePair<string, object?> FailedTag = new("outcome", "failed");

    private readonly Meter _meter;
    private readonly Histogram<double> _replicaRequestDuration;

    public ClusterMetrics(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _meter = meter;
        HintsStoredCounter = meter.CreateCounter<long>(HintsStored, "{hint}", "Hints this node stored as coordinator for replicas it could not reach");
        HintsReplayedCounter = meter.CreateCounter<long>(HintsReplayed, "{hint}", "Hints delivered to their node and removed");
        HintsUnreadableCounter = meter.CreateCounter<long>(HintsUnreadable, "{hint}", "Hint records found damaged (skipped, never replayed; counted once per scan)");
        ReadRepairsCounter = meter.CreateCounter<long>(ReadRepairs, "{repair}", "Replicas sent a newer object after a read found them stale");
        SpeculativeReadsCounter = meter.CreateCounter<long>(SpeculativeReads, "{read}", "Stand-by replicas asked because a replica a read asked was slow to answer");
        ReplicaWriteFailuresCounter = meter.CreateCounter<long>(ReplicaWriteFailures, "{write}", "Replica writes that failed and could not be kept as a hint");
        AntiEntropyRoundsCounter = meter.CreateCounter<long>(AntiEntropyRounds, "{round}", "Completed anti-entropy rounds");
        AntiEntropyKeysRepairedCounter = meter.CreateCounter<long>(AntiEntropyKeysRepaired, "{key}", "Keys repaired by Merkle exchanges (anti-entropy, handoff and warm-up)");
        AntiEntropyExchangedCounter = meter.CreateCounter<long>(AntiEntropyExchanged, "By", "Bytes of tree hashes and key listings sent and received in Merkle exchanges");
        TombstonesCollectedCounter = meter.CreateCounter<long>(TombstonesCollected, "{tombstone}", "Tombstones removed from this node's store");
        HandoffKeysCopiedCounter = meter.CreateCounter<long>(HandoffKeysCopied, "{key}", "Keys written here by partition handoff and warm-up");
        PubSubDroppedCounter = meter.CreateCounter<long>(PubSubDropped, "{message}", "Published messages some member missed (its relay queue was full, it was unreachable or the batch failed)");
        _replicaRequestDuration = meter.CreateHistogram(
            ReplicaRequestDuration, "s", "Time from a coordinator sending a replica read or write to its answer or failure, per peer",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    public Counter<long> HintsStoredCounter { get; }

    public Counter<long> HintsReplayedCounter { get; }

    public Counter<long> HintsUnreadableCounter { get; }

    public Counter<long> ReadRepairsCounter { get; }

    public Counter<long> SpeculativeReadsCounter { get; }

    public Counter<long> ReplicaWriteFailuresCounter { get; }

    public Counter<long> AntiEntropyRoundsCounter { get; }

    public Counter<long> AntiEntropyKeysRepairedCounter { get; }

    public Counter<long> AntiEntropyExchangedCounter { get; }

    public Counter<long> TombstonesCollectedCounter { get; }

    public Counter<long> HandoffKeysCopiedCounter { get; }

    public Counter<long> PubSubDroppedCounter { get; }

    /// <summary>Whether anything listens to replica request times; the coordinator takes no timestamps when nothing does.</summary>
    public bool TimesReplicaRequests => _replicaRequestDuration.Enabled;

    /// <summary>
    /// A replica read or write sent to <paramref name="peer"/> at <paramref name="startTimestamp"/>
    /// (<see cref="Stopwatch.GetTimestamp"/>) was answered, or failed. Tags <c>peer</c>, <c>op</c>, <c>outcome</c>;
    /// the peer's id is its own string, so nothing is allocated.
    /// </summary>
    public void ReplicaRequestDone(NodeId peer, bool read, bool ok, long startTimestamp) =>
        _replicaRequestDuration.Record(
            Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds,
            new KeyValuePair<string, object?>("peer", peer.Value),
            read ? ReadTag : WriteTag,
            ok ? OkTag : FailedTag);

    /// <summary>Reports the hints kept per intended node as <see cref="HintsPending"/> (tag <c>node</c>).</summary>
    public void ObserveHintsPending(Func<IReadOnlyDictionary<NodeId, long>> countsByNode)
    {
        ArgumentNullException.ThrowIfNull(countsByNode);
        _meter.CreateObservableUpDownCounter(
            HintsPending,
            () => countsByNode().Select(pair => new Measurement<long>(pair.Value, new KeyValuePair<string, object?>("node", pair.Key.Value))),
            "{hint}",
            "Hints kept for other nodes, per intended node");
    }

    /// <summary>Reports replica writes sent and not yet answered as <see cref="ReplicaWritesInFlight"/>.</summary>
    public void ObserveReplicaWritesInFlight(Func<int> inFlight) =>
        _meter.CreateObservableUpDownCounter(ReplicaWritesInFlight, inFlight, "{write}", "Replica writes sent and not yet answered");

    /// <summary>Reports the partitions this node still has to copy in as <see cref="HandoffPartitionsPending"/>.</summary>
    public void ObserveHandoffPartitionsPending(Func<int> pending) =>
        _meter.CreateObservableUpDownCounter(HandoffPartitionsPending, pending, "{partition}", "Partitions this node still has to copy in (handoff or warm-up)");

    /// <summary>Reports the memory of this node's Merkle trees as <see cref="AntiEntropyTreeSize"/>.</summary>
    public void ObserveTreeSize(Func<long> bytes) =>
        _meter.CreateObservableUpDownCounter(AntiEntropyTreeSize, bytes, "By", "Approximate memory of this node's Merkle trees");
}
