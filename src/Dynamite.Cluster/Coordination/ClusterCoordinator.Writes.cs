using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Coordination;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Coordination;

/// <summary>The write path: the local update, replica writes bounded in flight, and a hint for every undelivered replica write.</summary>
public sealed partial class ClusterCoordinator
{
    /// <summary>
    /// A quorum write of <paramref name="value"/> (null: a delete, kept as a tombstone) that supersedes what
    /// <paramref name="context"/> saw; a null context supersedes whatever the coordinating replica holds (a
    /// plain Redis SET). Completes when W replicas acknowledged; the rest are written in the background.
    /// Throws <see cref="StoreUnavailableException"/> when W was not reached (the write may still be on some
    /// replicas, as in Dynamo).
    /// </summary>
    public ValueTask<VersionedObject> PutAsync(byte[] key, VersionVector? context, byte[]? value, long expiresAtUnixMs, ConsistencyLevel? consistency, CancellationToken cancellationToken = default) =>
        PutAsync(key, context, value, null, expiresAtUnixMs, consistency, mayForward: true, cancellationToken);

    /// <summary>
    /// As the overload without <paramref name="bitPatches"/>, for a value a bit command wrote: the fields it set
    /// travel with the value (<see cref="Sibling.BitPatches"/>), so a read joins concurrent bit writes.
    /// </summary>
    public ValueTask<VersionedObject> PutBitsAsync(byte[] key, VersionVector? context, byte[] value, byte[] bitPatches, long expiresAtUnixMs, ConsistencyLevel? consistency, CancellationToken cancellationToken = default) =>
        PutAsync(key, context, value, bitPatches, expiresAtUnixMs, consistency, mayForward: true, cancellationToken);

    /// <summary>
    /// As the overload without <paramref name="mayForward"/>;
    /// <paramref name="mayForward"/> is false for a write another node forwarded here, so two nodes with
    /// different views never bounce a write between them.
    /// </summary>
    public async ValueTask<VersionedObject> PutAsync(byte[] key, VersionVector? context, byte[]? value, byte[]? bitPatches, long expiresAtUnixMs, ConsistencyLevel? consistency, bool mayForward, CancellationToken cancellationToken = default)
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

            await _forwarder.ForwardAsync(list, key, context, value, bitPatches, expiresAtUnixMs, w, cancellationToken);
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
            (written, encoded) = await _local.UpdateEncodedAsync(key, context, CurrentActor, value, bitPatches, expiresAtUnixMs, cancellationToken);
        }
        catch
        {
            ReleaseSlots(remote);
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
                _ = StoreHintAsync(node, write, $"the write to {node}, which gains this partition, failed");
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
        await StoreHintAsync(hintOwner, write, $"the write to {failed} failed");
        if (answer)
        {
            write.TrySetResult();
        }
    }

    /// <summary>Keeps <paramref name="write"/>'s change (an object, or a typed key's delta) as a hint for <paramref name="owner"/>.</summary>
    private async Task StoreHintAsync(NodeId owner, PendingWrite write, string reason)
    {
        if (write.Batch is not { } batch)
        {
            await StoreHintAsync(owner, write.Key, write.Written, reason, write.Delta);
            return;
        }

        // A batch's replica gets its changes back one hint each (a hint holds one key); replayed, each merges or joins on its own.
        foreach (ReplicaChange change in batch)
        {
            await StoreHintAsync(owner, change.Key, change.Incoming ?? VersionedObject.Empty, reason, change.Delta);
        }
    }

    private async Task StoreHintAsync(NodeId owner, byte[] key, VersionedObject obj, string reason, KeyDelta? delta = null)
    {
        if (_hints is null)
        {
            _metrics?.ReplicaWriteFailuresCounter.Add(1);
            _logger.LogWarning("Replica write of {Key} for {Node} not delivered ({Reason}) and hinted handoff is off; read repair or anti-entropy must fix it", KeyText.Format(key), owner, reason);
            return;
        }

        try
        {
            if (delta is null)
            {
                await _hints.AddAsync(owner, key, obj);
            }
            else
            {
                await _hints.AddDeltaAsync(owner, key, delta);
            }

            _metrics?.HintsStoredCounter.Add(1);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            _metrics?.ReplicaWriteFailuresCounter.Add(1);
            _logger.LogError(exception, "Could not store a hint of {Key} for {Node}", KeyText.Format(key), owner);
        }
    }
}
