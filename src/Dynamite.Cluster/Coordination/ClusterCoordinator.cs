using Dynamite.Cluster.Metrics;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Coordination;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;
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
public sealed class ClusterCoordinator : IDisposable
{
    private readonly ClusterOptions _options;
    private readonly IClusterTopology _topology;
    private readonly ReplicaStore _local;
    private readonly HintStore? _hints;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _replicaWriteSlots;
    private readonly ClusterMetrics? _metrics;
    private readonly NodeId _actor;
    private readonly PreferenceLists _lists;
    private readonly WriteForwarder _forwarder;
    private readonly ReadRepairer _repairer;

    /// <param name="options">The node's replication settings.</param>
    /// <param name="topology">The partition maps, reachability and peer connections.</param>
    /// <param name="local">This node's replicas.</param>
    /// <param name="hints">Where undelivered replica writes are kept (used when hinted handoff is on).</param>
    /// <param name="logger">The coordinator's log.</param>
    /// <param name="metrics">Where read repairs, hints, speculative reads, failures and replica request times are recorded; null: not measured.</param>
    public ClusterCoordinator(ClusterOptions options, IClusterTopology topology, ReplicaStore local, HintStore? hints, ILogger<ClusterCoordinator> logger, ClusterMetrics? metrics = null)
    {
        _metrics = metrics;
        _options = options;
        _topology = topology;
        _local = local;
        _hints = options.HintedHandoff ? hints : null;
        _actor = options.Actor.Value is null ? options.Self.Id : options.Actor;
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

    /// <summary>Replica writes sent and not yet answered (<see cref="ClusterMetrics.ReplicaWritesInFlight"/> observes it).</summary>
    public int ReplicaWritesInFlight => _options.MaxReplicaWritesInFlight - _replicaWriteSlots.CurrentCount;

    /// <summary>
    /// A quorum read: the merge of the R (or more) replies. <see cref="VersionedObject.Empty"/> when no
    /// replica has the key. Throws <see cref="StoreUnavailableException"/> when R replicas did not answer,
    /// or, with a level that requires agreement, their replies differed. <paramref name="cancellationToken"/> is
    /// checked before anything is sent; once sent, the read ends within the request timeout either way.
    /// </summary>
    public ValueTask<VersionedObject> GetAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<VersionedObject>(cancellationToken);
        }

        try
        {
            PendingRead? read = StartRead(key, consistency, out VersionedObject immediate);
            return read is null ? new(immediate) : read.Answer;
        }
        catch (Exception exception)
        {
            return ValueTask.FromException<VersionedObject>(exception);
        }
    }

    /// <summary>
    /// A quorum read as <see cref="GetAsync"/>, answered with <paramref name="resolve"/> applied to the merge when the
    /// client takes the answer (a front end's resolution of siblings): one awaitable, no state machine of its own.
    /// </summary>
    public ValueTask<ReadResult> ReadAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency, Func<VersionedObject, ReadResult> resolve, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ReadResult>(cancellationToken);
        }

        try
        {
            PendingRead? read = StartRead(key, consistency, out VersionedObject immediate);
            return read is null ? new(resolve(immediate)) : read.ResolvedAnswer(resolve);
        }
        catch (Exception exception)
        {
            return ValueTask.FromException<ReadResult>(exception);
        }
    }

    /// <summary>Sends the read and returns it in flight, or null with the answer in <paramref name="immediate"/> when
    /// this node's own copy is the answer. Not an async method, so a read costs no state machine.</summary>
    private PendingRead? StartRead(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency, out VersionedObject immediate)
    {
        immediate = VersionedObject.Empty;
        PreferenceList list = _lists.Of(key.Span, out int n);
        ConsistencyLevel level = consistency ?? ConsistencyLevel.Default;
        (int r, _) = level.Resolve(n, _options.ReadQuorum, _options.WriteQuorum);
        if (r == 1 && !level.RequireAgreement && _topology.ServesLocalReads && list.Contains(_options.Self.Id))
        {
            // R = 1 and this node holds a replica: its own copy is the answer. Asking the others would only feed
            // read repair, which at R = 1 the client has traded for speed; anti-entropy still converges them.
            immediate = _local.Read(key.Span) ?? VersionedObject.Empty;
            return null;
        }

        var request = new GetRequest(list, n, r, level.RequireAgreement, _options.ReadRepair, _options.ReadFanout, _options.Self.Id);

        // Keys outlive the client's request buffer here (late replies and repairs run after the answer).
        byte[] ownedKey = key.ToArray();

        // This node's copy is read first: its digest lets every replica that holds the same version answer
        // "unchanged" instead of sending the value back. A warming node's copy is incomplete: it counts as a
        // replica that could not answer.
        bool selfIsReplica = list.Contains(_options.Self.Id);
        VersionedObject? local = null;
        ulong localDigest = 0;
        if (selfIsReplica && _topology.ServesLocalReads)
        {
            local = _local.Read(ownedKey, out localDigest);
        }

        var read = new PendingRead(request, ownedKey, list.Partition, local, localDigest, level, list);
        if (request.Phase != GetPhase.AwaitingQuorum)
        {
            read.TryAnswer();
        }

        foreach (PreferenceListEntry entry in request.Targets)
        {
            if (entry.Node != _options.Self.Id)
            {
                ReadFromReplica(read, entry.Node);
            }
        }

        if (selfIsReplica)
        {
            OnReplicaRead(read, _options.Self.Id, _topology.ServesLocalReads, local);
        }

        // No cancellation here: every replica read ends within the request timeout.
        return read;
    }

    /// <summary>
    /// A quorum write of <paramref name="value"/> (null: a delete, kept as a tombstone) that supersedes what
    /// <paramref name="context"/> saw; a null context supersedes whatever the coordinating replica holds (a
    /// plain Redis SET). Completes when W replicas acknowledged; the rest are written in the background.
    /// Throws <see cref="StoreUnavailableException"/> when W was not reached (the write may still be on some
    /// replicas, as in Dynamo).
    /// </summary>
    public ValueTask<VersionedObject> PutAsync(byte[] key, VersionVector? context, byte[]? value, long expiresAtUnixMs, ConsistencyLevel? consistency, CancellationToken cancellationToken = default) =>
        PutAsync(key, context, value, expiresAtUnixMs, consistency, mayForward: true, cancellationToken);

    /// <summary>
    /// As the overload without <paramref name="mayForward"/>;
    /// <paramref name="mayForward"/> is false for a write another node forwarded here, so two nodes with
    /// different views never bounce a write between them.
    /// </summary>
    public async ValueTask<VersionedObject> PutAsync(byte[] key, VersionVector? context, byte[]? value, long expiresAtUnixMs, ConsistencyLevel? consistency, bool mayForward, CancellationToken cancellationToken = default)
    {
        PreferenceList list = _lists.Of(key, out int n, out NodeId[] gainers);
        ConsistencyLevel level = consistency ?? ConsistencyLevel.Default;
        (_, int w) = level.Resolve(n, _options.ReadQuorum, _options.WriteQuorum);
        if (!PutRequest.CanCoordinate(list, _options.Self.Id) && !mayForward && _topology.PendingMap is { } pendingMap)
        {
            // Forwarded here by a node that already routes by the plan this node still sees as pending (the plan
            // completed and gossip has not brought that here yet): coordinate by the plan's map, as the sender does.
            PreferenceList planned = PreferenceListBuilder.Build(pendingMap, list.Partition, _options.Self.Datacenter, _options.ReplicationFactor, _topology.IsReachable);
            if (PutRequest.CanCoordinate(planned, _options.Self.Id))
            {
                list = planned;
                gainers = [];
                n = Math.Max(1, planned.Primaries.Length);
                (_, w) = level.Resolve(n, _options.ReadQuorum, _options.WriteQuorum);
            }
        }

        if (!PutRequest.CanCoordinate(list, _options.Self.Id))
        {
            if (!mayForward)
            {
                throw new StoreUnavailableException($"{NotAReplicaPrefix} {_options.Self.Id} is not a replica of partition {list.Partition} either; the nodes disagree about the partition map");
            }

            await _forwarder.ForwardAsync(list, key, context, value, expiresAtUnixMs, w, cancellationToken);
            return VersionedObject.Empty;
        }

        var request = new PutRequest(list, _options.Self.Id, w);

        // Take a slot per replica write before writing anything: when too many are in flight this put (and so
        // its client) waits here, so replica writes nobody waits for any more (W < N) cannot pile up unbounded.
        // Taken before the local write, so a put cancelled while waiting has written nothing.
        int remote = request.ReplicaWrites.Count + gainers.Length;
        await AcquireReplicaWriteSlotsAsync(remote, cancellationToken);
        VersionedObject written;
        byte[] encoded;
        try
        {
            (written, encoded) = await _local.UpdateEncodedAsync(key, context, _actor, value, expiresAtUnixMs, cancellationToken);
        }
        catch
        {
            if (remote > 0)
            {
                _replicaWriteSlots.Release(remote);
            }

            throw;
        }

        var write = new PendingWrite(request, key, written);
        lock (request)
        {
            request.OnLocalWrite();
        }

        if (request.Outcome != PutOutcome.Pending)
        {
            write.TrySetResult();
        }

        // One immutable message serves every primary and gainer (the frame is encoded per connection). Indexed
        // loops: a foreach over the IReadOnlyList would box its enumerator per write.
        ReplicaPut? put = null;
        IReadOnlyList<PreferenceListEntry> replicaWrites = request.ReplicaWrites;
        for (int i = 0; i < replicaWrites.Count; i++)
        {
            PreferenceListEntry entry = replicaWrites[i];
            // A fallback's write carries the primary it stands in for, so the fallback keeps it as a hint.
            IPeerPayload message = entry.IsPrimary || entry.HintFor is null
                ? put ??= new ReplicaPut(key, encoded)
                : new HintedPut(entry.HintFor.Value.Value, key, encoded);
            SendReplicaWrite(entry.Node, message, new ReplicaWriteCallback(this, write, entry.Node, countsTowardsW: true));
        }

        foreach (NodeId gainer in gainers)
        {
            SendReplicaWrite(gainer, put ??= new ReplicaPut(key, encoded), new ReplicaWriteCallback(this, write, gainer, countsTowardsW: false));
        }

        // Hints are kept while the replica writes travel, not before them; the client is answered only after
        // they are durable (so an acknowledged write always has its hint).
        if (request.LocalHintFor is { } standingInFor)
        {
            await StoreHintAsync(standingInFor, key, written, "this node coordinated the write as its fallback");
        }

        IReadOnlyList<NodeId> coordinatorHints = request.HintsAtCoordinator;
        for (int i = 0; i < coordinatorHints.Count; i++)
        {
            await StoreHintAsync(coordinatorHints[i], key, written, "its primary is unreachable and no fallback is free");
        }

        // No cancellation here: every replica write ends within the request timeout, and the slots it holds with it.
        await write.Answer;
        lock (request)
        {
            return request.Outcome == PutOutcome.Ok
                ? written
                : throw new StoreUnavailableException(
                    $"NOQUORUM write quorum not reached: {request.Acknowledgements} of {w} acknowledgements (W={w}, N={n}{Unreachable(list)}); the write may be applied on some replicas");
        }
    }

    public void Dispose() => _replicaWriteSlots.Dispose();

    private async Task AcquireReplicaWriteSlotsAsync(int count, CancellationToken cancellationToken)
    {
        int acquired = 0;
        try
        {
            for (; acquired < count; acquired++)
            {
                await _replicaWriteSlots.WaitAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            if (acquired > 0)
            {
                _replicaWriteSlots.Release(acquired);
            }

            throw;
        }
    }

    private void ReadFromReplica(PendingRead read, NodeId node)
    {
        var callback = new ReplicaReadCallback(this, read, node);
        if (_topology.ClientFor(node) is { } client)
        {
            client.Send(read.Message, _options.RequestTimeout, callback, _options.SpeculativeReadDelay);
        }
        else
        {
            callback.OnFailure(new PeerUnavailableException($"no connection to {node}"));
        }
    }

    /// <summary>
    /// A replica's reply (null: it has no copy) or failure, fed to the read's state machine. The client's
    /// continuation runs inline when the answer is set, so that happens outside the lock, as does asking a stand-by
    /// (whose failure may be reported on this very stack).
    /// </summary>
    internal void OnReplicaRead(PendingRead read, NodeId node, bool replied, VersionedObject? reply)
    {
        (bool Answer, NodeId? Ask) outcome;
        lock (read.Request)
        {
            outcome = Handle(read, replied ? read.Request.OnReply(node, reply) : read.Request.OnFailure(node));
        }

        Act(read, outcome);
    }

    /// <summary>A replica asked has not answered within <see cref="ClusterOptions.SpeculativeReadDelay"/>: ask a stand-by too, if there is one.</summary>
    internal void OnReplicaSlow(PendingRead read, NodeId node)
    {
        (bool Answer, NodeId? Ask) outcome;
        lock (read.Request)
        {
            outcome = Handle(read, read.Request.OnSlow(node));
        }

        if (outcome.Ask is { } next)
        {
            _metrics?.SpeculativeReadsCounter.Add(1);
            _logger.LogDebug("Replica {Node} is slow to answer a read; asking {Next} too", node, next);
        }

        Act(read, outcome);
    }

    /// <summary>The part of <see cref="Handle"/>'s outcome done outside the request's lock: ask the next replica, answer the client.</summary>
    private void Act(PendingRead read, (bool Answer, NodeId? Ask) outcome)
    {
        if (outcome.Ask is { } next)
        {
            ReadFromReplica(read, next);
        }

        if (outcome.Answer)
        {
            read.TryAnswer();
        }
    }

    /// <summary>
    /// Does what the read's state machine asked for that can be done under the request's lock (repairs, this node's
    /// own reply); returns whether to answer the client and which replica to ask next.
    /// </summary>
    private (bool Answer, NodeId? Ask) Handle(PendingRead read, GetStep step)
    {
        bool answer = (step & GetStep.Answer) != 0;
        NodeId? ask = null;
        if ((step & GetStep.Ask) != 0 && read.Request.NextTarget is { } next)
        {
            // In place of a replica that failed. This node (a fallback held in reserve) answers from the copy read first.
            if (next.Node == _options.Self.Id)
            {
                (bool answerNow, ask) = Handle(read, _topology.ServesLocalReads ? read.Request.OnReply(next.Node, read.Local) : read.Request.OnFailure(next.Node));
                answer |= answerNow;
            }
            else
            {
                ask = next.Node;
            }
        }

        if ((step & GetStep.Repair) != 0)
        {
            _ = _repairer.RepairAsync(read.Key, read.Request.Merged, [.. read.Request.RepairTargets]);
        }

        return (answer, ask);
    }

    private void SendReplicaWrite(NodeId node, IPeerPayload message, ReplicaWriteCallback callback)
    {
        if (_topology.ClientFor(node) is { } client)
        {
            client.Send(message, _options.RequestTimeout, callback);
        }
        else
        {
            callback.OnFailure(new PeerUnavailableException($"no connection to {node}"));
        }
    }

    /// <summary>
    /// A replica write ended: its in-flight slot is released and, for a replica that counts towards W, the put's
    /// state machine is fed. An undelivered write becomes a hint; the client is answered only once that hint is
    /// durable. A write to a node that gains the partition under a pending plan does not count towards W (the
    /// current replicas answer for the write), but it is not dropped either: undelivered, it becomes a hint too.
    /// </summary>
    internal void OnReplicaWritten(PendingWrite write, NodeId node, bool countsTowardsW, bool stored)
    {
        _replicaWriteSlots.Release();
        if (!countsTowardsW)
        {
            if (!stored)
            {
                _ = StoreHintAsync(node, write.Key, write.Written, $"the write to {node}, which gains this partition, failed");
            }

            return;
        }

        PutStep step;
        NodeId hintOwner = default;
        lock (write.Request)
        {
            step = stored ? write.Request.OnAck(node) : write.Request.OnFailure(node, out hintOwner);
        }

        if ((step & PutStep.StoreHint) != 0)
        {
            _ = StoreHintThenAnswerAsync(write, hintOwner, node, answer: (step & PutStep.Answer) != 0);
        }
        else if ((step & PutStep.Answer) != 0)
        {
            write.TrySetResult();
        }
    }

    private async Task StoreHintThenAnswerAsync(PendingWrite write, NodeId hintOwner, NodeId failed, bool answer)
    {
        await StoreHintAsync(hintOwner, write.Key, write.Written, $"the write to {failed} failed");
        if (answer)
        {
            write.TrySetResult();
        }
    }

    private async Task StoreHintAsync(NodeId owner, byte[] key, VersionedObject obj, string reason)
    {
        if (_hints is null)
        {
            _metrics?.ReplicaWriteFailuresCounter.Add(1);
            _logger.LogWarning("Replica write of {Key} for {Node} not delivered ({Reason}) and hinted handoff is off; read repair or anti-entropy must fix it", KeyText.Format(key), owner, reason);
            return;
        }

        try
        {
            await _hints.AddAsync(owner, key, obj);
            _metrics?.HintsStoredCounter.Add(1);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            _metrics?.ReplicaWriteFailuresCounter.Add(1);
            _logger.LogError(exception, "Could not store a hint of {Key} for {Node}", KeyText.Format(key), owner);
        }
    }

    internal static string Unreachable(PreferenceList list) =>
        list.UnreachablePrimaries.IsEmpty ? "" : "; unreachable: " + string.Join(", ", list.UnreachablePrimaries);
}
