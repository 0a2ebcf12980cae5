using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
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
/// Thread-safety: every method may be called concurrently; the counters are updated atomically.
/// </summary>
public sealed class ClusterCoordinator : IDisposable
{
    private readonly ClusterOptions _options;
    private readonly IClusterTopology _topology;
    private readonly ReplicaStore _local;
    private readonly HintStore? _hints;
    private readonly KeyPartitioner _partitioner;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _replicaWriteSlots;
    private long _readRepairs;
    private long _hintsStored;
    private long _replicaWriteFailures;

    public ClusterCoordinator(ClusterOptions options, IClusterTopology topology, ReplicaStore local, HintStore? hints, ILogger<ClusterCoordinator> logger)
    {
        _options = options;
        _topology = topology;
        _local = local;
        _hints = options.HintedHandoff ? hints : null;
        _partitioner = new KeyPartitioner(options.PartitionBits);
        _logger = logger;
        _replicaWriteSlots = new SemaphoreSlim(options.MaxReplicaWritesInFlight, options.MaxReplicaWritesInFlight);
    }

    public ClusterOptions Options => _options;

    public ReplicaStore LocalReplica => _local;

    /// <summary>Replicas sent a newer object after a read found them stale.</summary>
    public long ReadRepairs => Interlocked.Read(ref _readRepairs);

    /// <summary>Hints this node stored for replicas it could not reach (its own and those fallbacks took are counted by the hint store).</summary>
    public long HintsStored => Interlocked.Read(ref _hintsStored);

    /// <summary>Replica writes that failed and could not even be kept as a hint (hinted handoff off).</summary>
    public long ReplicaWriteFailures => Interlocked.Read(ref _replicaWriteFailures);

    /// <summary>Replica writes sent and not yet answered.</summary>
    public int ReplicaWritesInFlight => _options.MaxReplicaWritesInFlight - _replicaWriteSlots.CurrentCount;

    /// <summary>
    /// A quorum read: the merge of the R (or more) replies. <see cref="VersionedObject.Empty"/> when no
    /// replica has the key. Throws <see cref="StoreUnavailableException"/> when R replicas did not answer,
    /// or, with a level that requires agreement, their replies differed.
    /// </summary>
    public async ValueTask<VersionedObject> GetAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency, CancellationToken cancellationToken = default)
    {
        PreferenceList list = PreferenceListOf(key.Span, out int n);
        ConsistencyLevel level = consistency ?? ConsistencyLevel.Default;
        (int r, _) = level.Resolve(n, _options.ReadQuorum, _options.WriteQuorum);
        int primaries = CountPrimaries(list);
        var quorum = new GetQuorum(n, r, 0, list.Entries.Length, level.RequireAgreement, primaries);
        byte[] ownedKey = key.ToArray();

        var pending = new List<(PreferenceListEntry Entry, Task<VersionedObject?> Reply)>(list.Entries.Length);
        foreach (PreferenceListEntry entry in list.Entries)
        {
            if (entry.Node == _options.Self.Id)
            {
                // The local copy needs no message; a fallback's main store does not hold the key (its copy is a hint).
                quorum.Add(entry.Node, entry.IsPrimary, entry.IsPrimary ? _local.Read(ownedKey) : null);
            }
            else
            {
                pending.Add((entry, ReadReplicaAsync(entry.Node, ownedKey, list.Partition, cancellationToken)));
            }
        }

        var outstanding = new List<Task<VersionedObject?>>(pending.Count);
        foreach ((_, Task<VersionedObject?> reply) in pending)
        {
            outstanding.Add(reply);
        }

        while (!quorum.IsDone && outstanding.Count > 0)
        {
            Task<VersionedObject?> finished = await Task.WhenAny(outstanding);
            outstanding.Remove(finished);
            Record(quorum, pending, finished);
        }

        if (_options.ReadRepair)
        {
            // Late replies still count for repair; the client does not wait for them.
            _ = RepairWhenAllRepliedAsync(ownedKey, quorum, pending, outstanding);
        }

        return quorum.Outcome switch
        {
            GetOutcome.Ok or GetOutcome.NotFound => quorum.Merged,
            GetOutcome.Disagreement => throw new StoreUnavailableException(
                $"NOQUORUM replicas disagree ({level.Name}): {quorum.Replies.Count} replied, {r} had to agree"),
            _ => throw new StoreUnavailableException(
                $"NOQUORUM read quorum not reached: {quorum.Replies.Count} of {r} replicas answered (R={r}, N={n}{Unreachable(list)})"),
        };
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
        PreferenceList list = PreferenceListOf(key, out int n);
        ConsistencyLevel level = consistency ?? ConsistencyLevel.Default;
        (_, int w) = level.Resolve(n, _options.ReadQuorum, _options.WriteQuorum);
        if (!Contains(list, _options.Self.Id))
        {
            if (!mayForward)
            {
                throw new StoreUnavailableException($"NOQUORUM node {_options.Self.Id} is not a replica of partition {list.Partition} either; the nodes disagree about the partition map");
            }

            await ForwardPutAsync(list, key, context, value, expiresAtUnixMs, w, cancellationToken);
            return VersionedObject.Empty;
        }

        // Take a slot per replica write before writing anything: when too many are in flight this put (and so
        // its client) waits here, so replica writes nobody waits for any more (W < N) cannot pile up unbounded.
        // Taken before the local write, so a put cancelled while waiting has written nothing.
        int remote = list.Entries.Length - 1;
        await AcquireReplicaWriteSlotsAsync(remote, cancellationToken);
        VersionedObject written;
        try
        {
            written = await _local.UpdateAsync(key, context, _options.Actor, value, expiresAtUnixMs, cancellationToken);
        }
        catch
        {
            if (remote > 0)
            {
                _replicaWriteSlots.Release(remote);
            }

            throw;
        }

        var quorum = new PutQuorum(w, 0, list.Entries.Length, CountPrimaries(list));
        quorum.AddAck(_options.Self.Id, IsPrimary(list, _options.Self.Id));

        // Primaries nobody stands in for get a hint here, on the coordinator (it does not count toward W).
        foreach (NodeId unreachable in list.UnreachablePrimaries)
        {
            if (!HasFallbackFor(list, unreachable))
            {
                await StoreHintAsync(unreachable, key, written, "its primary is unreachable and no fallback is free");
            }
        }

        if (quorum.IsDone || remote == 0)
        {
            StartReplicaWrites(list, key, written, waiting: null);
            return Finish(quorum, w, n, list, written);
        }

        var decided = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        StartReplicaWrites(list, key, written, (quorum, decided));
        await decided.Task.WaitAsync(cancellationToken);
        return Finish(quorum, w, n, list, written);
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

    /// <summary>
    /// A node that holds no replica of the key (the cluster is larger than N) hands the write to the first
    /// reachable replica, which coordinates it; the next one is tried if a replica cannot be reached.
    /// </summary>
    private async Task ForwardPutAsync(PreferenceList list, byte[] key, VersionVector? context, byte[]? value, long expiresAtUnixMs, int w, CancellationToken cancellationToken)
    {
        byte[] encodedContext = [];
        if (context is not null)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            context.Write(buffer);
            encodedContext = buffer.WrittenSpan.ToArray();
        }

        var request = new CoordinatePut(key, encodedContext, value ?? [], value is null, expiresAtUnixMs, w);
        string lastFailure = "no replica is reachable";
        foreach (PreferenceListEntry entry in list.Entries)
        {
            IPeerClient? client = _topology.ClientFor(entry.Node);
            if (client is null)
            {
                continue;
            }

            try
            {
                // The replica waits for its own quorum, so allow it two request timeouts.
                PeerResponse response = await client.SendAsync(request, _options.RequestTimeout * 2, cancellationToken);
                CoordinatePutReply reply = response.Read<CoordinatePutReply>();
                if (reply.Stored)
                {
                    return;
                }

                throw new StoreUnavailableException(reply.Reason);
            }
            catch (Exception exception) when (exception is PeerUnavailableException or TimeoutException or PeerRemoteException)
            {
                lastFailure = $"{entry.Node}: {exception.Message}";
            }
        }

        throw new StoreUnavailableException($"NOQUORUM could not forward the write to a replica of partition {list.Partition} ({lastFailure})");
    }

    /// <summary>A replica's count of stored keys, asked over the peer protocol.</summary>
    public async Task<long> CountOnAsync(NodeId node, CancellationToken cancellationToken)
    {
        if (node == _options.Self.Id)
        {
            return _local.KeyCount;
        }

        IPeerClient client = _topology.ClientFor(node) ?? throw new StoreUnavailableException($"unknown node {node}");
        PeerResponse response = await client.SendAsync(new ReplicaCount(), _options.RequestTimeout, cancellationToken);
        return response.Read<ReplicaCountReply>().Count;
    }

    private static VersionedObject Finish(PutQuorum quorum, int w, int n, PreferenceList list, VersionedObject written)
    {
        lock (quorum)
        {
            return quorum.Outcome == PutOutcome.Ok
                ? written
                : throw new StoreUnavailableException(
                    $"NOQUORUM write quorum not reached: {quorum.AckedReplicas.Count} of {w} acknowledgements (W={w}, N={n}{Unreachable(list)}); the write may be applied on some replicas");
        }
    }

    private void StartReplicaWrites(PreferenceList list, byte[] key, VersionedObject written, (PutQuorum Quorum, TaskCompletionSource Decided)? waiting)
    {
        byte[] encoded = written.Encode();
        foreach (PreferenceListEntry entry in list.Entries)
        {
            if (entry.Node != _options.Self.Id)
            {
                _ = WriteReplicaAsync(entry, key, written, encoded, waiting);
            }
        }
    }

    private async Task WriteReplicaAsync(PreferenceListEntry entry, byte[] key, VersionedObject written, byte[] encoded, (PutQuorum Quorum, TaskCompletionSource Decided)? waiting)
    {
        // The caller took this write's slot; it is released when the write is answered.
        bool acknowledged = false;
        try
        {
            IPeerClient client = _topology.ClientFor(entry.Node) ?? throw new PeerUnavailableException($"no connection to {entry.Node}");
            Core.Peer.IPeerPayload request = entry.IsPrimary || entry.HintFor is null
                ? new ReplicaPut(key, encoded)
                : new HintedPut(entry.HintFor.Value.Value, key, encoded);
            PeerResponse response = await client.SendAsync(request, _options.RequestTimeout);
            acknowledged = response.Read<ReplicaPutAck>().Status == ReplicaPutStatus.Stored;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            _logger.LogDebug(exception, "Replica write of {Key} to {Node} failed", KeyText.Format(key), entry.Node);
        }
        finally
        {
            _replicaWriteSlots.Release();
        }

        if (!acknowledged)
        {
            // The intended owner of this copy is the primary itself, or the primary a fallback stood in for.
            NodeId owner = entry.IsPrimary || entry.HintFor is null ? entry.Node : entry.HintFor.Value;
            await StoreHintAsync(owner, key, written, $"the write to {entry.Node} failed");
        }

        if (waiting is { } w)
        {
            bool decidedNow;
            lock (w.Quorum)
            {
                bool wasDone = w.Quorum.IsDone;
                if (acknowledged)
                {
                    w.Quorum.AddAck(entry.Node, entry.IsPrimary);
                }
                else
                {
                    w.Quorum.AddFailure(entry.Node, entry.IsPrimary);
                }

                decidedNow = !wasDone && w.Quorum.IsDone;
            }

            if (decidedNow)
            {
                w.Decided.TrySetResult();
            }
        }
    }

    private async Task StoreHintAsync(NodeId owner, byte[] key, VersionedObject obj, string reason)
    {
        if (_hints is null)
        {
            Interlocked.Increment(ref _replicaWriteFailures);
            _logger.LogWarning("Replica write of {Key} for {Node} not delivered ({Reason}) and hinted handoff is off; read repair or anti-entropy must fix it", KeyText.Format(key), owner, reason);
            return;
        }

        try
        {
            await _hints.AddAsync(owner, key, obj);
            Interlocked.Increment(ref _hintsStored);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Interlocked.Increment(ref _replicaWriteFailures);
            _logger.LogError(exception, "Could not store a hint of {Key} for {Node}", KeyText.Format(key), owner);
        }
    }

    private async Task<VersionedObject?> ReadReplicaAsync(NodeId node, byte[] key, PartitionId partition, CancellationToken cancellationToken)
    {
        IPeerClient client = _topology.ClientFor(node) ?? throw new PeerUnavailableException($"no connection to {node}");
        PeerResponse response = await client.SendAsync(new ReplicaGet(key, partition), _options.RequestTimeout, cancellationToken);
        ReplicaGetReply reply = response.Read<ReplicaGetReply>();
        return reply.Status switch
        {
            ReplicaGetStatus.Found => VersionedObject.Decode(reply.EncodedObject.Span),
            ReplicaGetStatus.NotFound => null,
            _ => throw new PeerUnavailableException($"{node} could not read the key"),
        };
    }

    private void Record(GetQuorum quorum, List<(PreferenceListEntry Entry, Task<VersionedObject?> Reply)> pending, Task<VersionedObject?> finished)
    {
        foreach ((PreferenceListEntry entry, Task<VersionedObject?> reply) in pending)
        {
            if (reply != finished)
            {
                continue;
            }

            if (finished.IsCompletedSuccessfully)
            {
                // A fallback answers for its hint store, not its main store: count it as an answer without the key.
                quorum.Add(entry.Node, entry.IsPrimary, entry.IsPrimary ? finished.Result : null);
            }
            else
            {
                _logger.LogDebug(finished.Exception?.InnerException, "Replica read from {Node} failed", entry.Node);
                quorum.AddFailure(entry.Node, entry.IsPrimary);
            }

            return;
        }
    }

    private async Task RepairWhenAllRepliedAsync(byte[] key, GetQuorum quorum, List<(PreferenceListEntry Entry, Task<VersionedObject?> Reply)> pending, List<Task<VersionedObject?>> outstanding)
    {
        try
        {
            while (outstanding.Count > 0)
            {
                Task<VersionedObject?> finished = await Task.WhenAny(outstanding);
                outstanding.Remove(finished);
                Record(quorum, pending, finished);
            }

            if (quorum.Merged.IsEmpty)
            {
                return;
            }

            var primaryReplies = new List<(NodeId Node, VersionedObject? Reply)>();
            foreach ((NodeId node, VersionedObject? reply) in quorum.Replies)
            {
                if (IsPrimaryReply(pending, node))
                {
                    primaryReplies.Add((node, reply));
                }
            }

            IReadOnlyList<NodeId> stale = ReadRepairPlan.StaleReplicas(quorum.Merged, primaryReplies);
            byte[]? encoded = null;
            foreach (NodeId node in stale)
            {
                Interlocked.Increment(ref _readRepairs);
                if (node == _options.Self.Id)
                {
                    await _local.MergeAsync(key, quorum.Merged);
                    continue;
                }

                encoded ??= quorum.Merged.Encode();
                IPeerClient? client = _topology.ClientFor(node);
                if (client is not null)
                {
                    await client.SendAsync(new ReplicaPut(key, encoded), _options.RequestTimeout);
                }
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Repair is best effort: the next read or anti-entropy will try again.
            _logger.LogDebug(exception, "Read repair of {Key} failed", KeyText.Format(key));
        }
    }

    private bool IsPrimaryReply(List<(PreferenceListEntry Entry, Task<VersionedObject?> Reply)> pending, NodeId node)
    {
        if (node == _options.Self.Id)
        {
            return true;
        }

        foreach ((PreferenceListEntry entry, _) in pending)
        {
            if (entry.Node == node)
            {
                return entry.IsPrimary;
            }
        }

        return false;
    }

    private PreferenceList PreferenceListOf(ReadOnlySpan<byte> key, out int n)
    {
        PartitionMap map = _topology.Map ?? throw new StoreUnavailableException("NOQUORUM cluster not ready: " + _topology.NotReadyReason);
        PartitionId partition = _partitioner.PartitionOf(key);
        PreferenceList list = PreferenceListBuilder.Build(map, partition, _options.Self.Datacenter, _options.ReplicationFactor, _topology.IsReachable);
        n = Math.Max(1, list.Primaries.Length);
        return list;
    }

    private static int CountPrimaries(PreferenceList list)
    {
        int count = 0;
        foreach (PreferenceListEntry entry in list.Entries)
        {
            count += entry.IsPrimary ? 1 : 0;
        }

        return count;
    }

    private static bool Contains(PreferenceList list, NodeId node)
    {
        foreach (PreferenceListEntry entry in list.Entries)
        {
            if (entry.Node == node)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsPrimary(PreferenceList list, NodeId node)
    {
        foreach (PreferenceListEntry entry in list.Entries)
        {
            if (entry.Node == node)
            {
                return entry.IsPrimary;
            }
        }

        return false;
    }

    private static bool HasFallbackFor(PreferenceList list, NodeId primary)
    {
        foreach (PreferenceListEntry entry in list.Entries)
        {
            if (!entry.IsPrimary && entry.HintFor == primary)
            {
                return true;
            }
        }

        return false;
    }

    private static string Unreachable(PreferenceList list) =>
        list.UnreachablePrimaries.IsEmpty ? "" : "; unreachable: " + string.Join(", ", list.UnreachablePrimaries);
}
