using Dynamite.Cluster.Node;
using Dynamite.Cluster.Replication;
using Dynamite.Core.Coordination;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// Writes of several keys of one partition as one transaction on every replica: one storage operation here, one
/// <see cref="ReplicaBatch"/> per replica, which applies it in one storage operation too, and W acknowledgements.
/// </summary>
public sealed partial class ClusterCoordinator
{
    /// <summary>
    /// Writes every update of <paramref name="updates"/> (keys of one partition) as one transaction: this node, a primary
    /// of the partition, stores them in one storage operation, then sends them to each other replica in one message,
    /// applied there all or none; completes when W replicas hold them all. A replica that misses the batch gets a hint
    /// of each key. Returns false, having written nothing, when the batch cannot go this way: the keys span partitions,
    /// this node is not a primary of theirs, or a replica is down so that a fallback stands in (whose acknowledgement a
    /// write of single keys counts towards W): the caller then writes the keys one by one. More keys or bytes than one
    /// replica message holds go in several, each applied whole. Throws <see cref="StoreUnavailableException"/> when W was
    /// not reached (the batch may be whole on some replicas), and <see cref="TypedKeyException"/>, having written nothing,
    /// when a key holds a counter.
    /// </summary>
    public async ValueTask<bool> TryPutBatchAsync(IReadOnlyList<ReplicaUpdate> updates, ConsistencyLevel? consistency, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updates);
        if (updates.Count == 0)
        {
            return true;
        }

        PreferenceList list = _lists.Of(updates[0].Key, out int n, out NodeId[] gainers);
        for (int i = 1; i < updates.Count; i++)
        {
            if (_lists.Of(updates[i].Key, out _).Partition != list.Partition)
            {
                return false;
            }
        }

        var request = new PutRequest(list, _options.Self.Id, (consistency ?? ConsistencyLevel.Default).Resolve(n, _options.ReadQuorum, _options.WriteQuorum).W);
        if (!list.Primaries.Contains(_options.Self.Id) || request.LocalHintFor is not null || request.HintsAtCoordinator.Count > 0)
        {
            return false;
        }

        IReadOnlyList<PreferenceListEntry> replicaWrites = request.ReplicaWrites;
        for (int i = 0; i < replicaWrites.Count; i++)
        {
            if (!replicaWrites[i].IsPrimary && replicaWrites[i].HintFor is not null)
            {
                return false;
            }
        }

        int remote = replicaWrites.Count + gainers.Length;
        await AcquireReplicaWriteSlotsAsync(remote, cancellationToken);
        (VersionedObject Written, byte[] Encoded)[] written;
        try
        {
            written = await _local.UpdateBatchEncodedAsync(updates, CurrentActor, cancellationToken);
        }
        catch
        {
            ReleaseSlots(remote);
            throw;
        }

        var changes = new ReplicaChange[updates.Count];
        for (int i = 0; i < updates.Count; i++)
        {
            changes[i] = ReplicaChange.Merge(updates[i].Key, written[i].Written, written[i].Encoded);
        }

        await ReplicateBatchAsync(request, list, n, gainers, changes, "writes");
        return true;
    }

    /// <summary>
    /// Begins a transaction on keys of <paramref name="key"/>'s partition with this node as its coordinator
    /// (<see cref="ReplicaTransaction"/>, committed by <see cref="CommitTransactionAsync"/>); null when this node cannot
    /// coordinate one: it is not a primary of the partition (a typed change is built from a primary's state, and only a
    /// primary's replica holds the whole key), or its replica is still warming (its reads would miss data), or it has no ring yet.
    /// </summary>
    public ReplicaTransaction? BeginTransaction(ReadOnlySpan<byte> key)
    {
        PreferenceList list;
        try
        {
            list = _lists.Of(key, out _);
        }
        catch (StoreUnavailableException)
        {
            return null;
        }

        return list.Primaries.Contains(_options.Self.Id) && _topology.ServesLocalReads ? _local.BeginTransaction(list.Partition, TransactionActor) : null;
    }

    /// <summary>
    /// The actor a staged transaction's dots are issued as: not <see cref="CurrentActor"/>, whose next dot a write coordinated
    /// here meanwhile (a command or a put another node forwarded, which the isolation gate does not hold off) takes from
    /// the committed state, which does not have the transaction's staged dots yet: the same dot twice would make one of
    /// the two writes vanish where they meet. Transactions on a node run one at a time (each holds the gate alone), and
    /// each stages over what the one before it committed, so this actor never issues a dot twice either. Derived from
    /// <see cref="CurrentActor"/> (a character no incarnation holds), so it is this node's and this data's only.
    /// </summary>
    private NodeId TransactionActor => _incarnation?.TransactionActor ?? (field.Value is null ? field = DataIncarnation.TransactionActorOf(_fixedActor) : field);

    /// <summary>The partition <paramref name="key"/> belongs to.</summary>
    public PartitionId PartitionOf(ReadOnlySpan<byte> key) => _lists.PartitionOf(key);

    /// <summary>
    /// Commits <paramref name="transaction"/>: this replica stores everything it staged in one storage operation, then each
    /// other replica gets its changes in one <see cref="ReplicaBatch"/> (several only when they are more than one message
    /// holds), which it applies in one storage operation; completes when W replicas hold them. A replica that misses it, and
    /// one a fallback stands in for, gets a hint of each change, kept here. Throws <see cref="StoreUnavailableException"/>
    /// having stored nothing when this node is no longer a primary of the partition, and one with
    /// <see cref="StoreUnavailableException.MayBeApplied"/> when W was not reached after this replica stored the changes.
    /// The transaction is empty afterwards, whatever the outcome.
    /// </summary>
    public async ValueTask CommitTransactionAsync(ReplicaTransaction transaction, ConsistencyLevel? consistency, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        try
        {
            ReplicaChange[] changes = [.. transaction.Changes];
            if (changes.Length == 0)
            {
                // Nothing changed (a command that wrote nothing stages nothing to send, and nothing to store).
                return;
            }

            PreferenceList list = _lists.Of(changes[0].Key, out int n, out NodeId[] gainers);
            if (list.Partition != transaction.Partition || !list.Primaries.Contains(_options.Self.Id))
            {
                throw new StoreUnavailableException(
                    $"{NotAReplicaPrefix} {_options.Self.Id} is no longer a primary of partition {transaction.Partition}; the ring changed during the transaction and nothing of it was stored");
            }

            var request = new PutRequest(list, _options.Self.Id, (consistency ?? ConsistencyLevel.Default).Resolve(n, _options.ReadQuorum, _options.WriteQuorum).W);
            int remote = request.ReplicaWrites.Count + gainers.Length;
            await AcquireReplicaWriteSlotsAsync(remote, cancellationToken);
            try
            {
                await transaction.CommitHereAsync();
            }
            catch
            {
                ReleaseSlots(remote);
                throw;
            }

            await ReplicateBatchAsync(request, list, n, gainers, changes, "transaction");
        }
        finally
        {
            transaction.Clear();
        }
    }

    /// <summary>
    /// Sends what this replica stored (<paramref name="changes"/>, one partition's) to the other replicas as one transaction
    /// each, with a slot per replica write held, and waits for W. A fallback standing in for a primary gets nothing: the
    /// primary's hints are kept here, one per change (a fallback keeps hints of single keys, not transactions).
    /// </summary>
    private async ValueTask ReplicateBatchAsync(PutRequest request, PreferenceList list, int n, NodeId[] gainers, ReplicaChange[] changes, string what)
    {
        var write = new PendingWrite(request, changes[0].Key, changes[0].Incoming ?? VersionedObject.Empty) { Batch = changes };
        lock (request)
        {
            request.OnLocalWrite();
        }

        if (request.Outcome != PutOutcome.Pending)
        {
            write.TrySetResult();
        }

        ReplicaBatch[] messages = ReplicaBatchesOf(changes);
        IReadOnlyList<PreferenceListEntry> replicaWrites = request.ReplicaWrites;
        for (int i = 0; i < replicaWrites.Count; i++)
        {
            PreferenceListEntry entry = replicaWrites[i];
            if (!entry.IsPrimary && entry.HintFor is not null)
            {
                // As a write to it that failed: the hint for the primary it stands in for is kept here.
                OnReplicaWritten(write, entry.Node, countsTowardsW: true, stored: false);
                continue;
            }

            SendReplicaBatch(entry.Node, messages, new ReplicaWriteCallback(this, write, entry.Node, countsTowardsW: true));
        }

        foreach (NodeId gainer in gainers)
        {
            SendReplicaBatch(gainer, messages, new ReplicaWriteCallback(this, write, gainer, countsTowardsW: false));
        }

        IReadOnlyList<NodeId> coordinatorHints = request.HintsAtCoordinator;
        for (int i = 0; i < coordinatorHints.Count; i++)
        {
            await StoreHintAsync(coordinatorHints[i], write, "its primary is unreachable and no fallback is free");
        }

        await write.Answer;
        lock (request)
        {
            if (request.Outcome != PutOutcome.Ok)
            {
                throw new StoreUnavailableException(
                    $"NOQUORUM write quorum not reached: {request.Acknowledgements} of {request.W} acknowledgements (W={request.W}, N={n}{Unreachable(list)}); the {what} may be applied on some replicas")
                {
                    MayBeApplied = true,
                };
            }
        }
    }

    /// <summary>The replica messages carrying <paramref name="changes"/> in order: one, unless they are more entries or bytes than one message holds.</summary>
    private static ReplicaBatch[] ReplicaBatchesOf(ReplicaChange[] changes)
    {
        var messages = new List<ReplicaBatch>(1);
        var entries = new List<ReplicaBatchEntry>(changes.Length);
        long bytes = 4;
        foreach (ReplicaChange change in changes)
        {
            byte[] encoded = change.Delta is { } delta ? delta.Encode() : change.EncodedObject ?? change.Incoming!.Encode();
            // A kind byte and two lengths beside the key and the change (ReplicaBatch's layout).
            long size = 9L + change.Key.Length + encoded.Length;
            if (entries.Count > 0 && (entries.Count == ReplicaBatch.MaxEntries || bytes + size > Core.Peer.PeerLimits.MaxObjectBytes))
            {
                messages.Add(new ReplicaBatch([.. entries]));
                entries.Clear();
                bytes = 4;
            }

            entries.Add(new ReplicaBatchEntry(change.Delta is null ? ReplicaBatchEntryKind.VersionedObject : ReplicaBatchEntryKind.Delta, change.Key, encoded));
            bytes += size;
        }

        messages.Add(new ReplicaBatch([.. entries]));
        return [.. messages];
    }

    /// <summary>Sends a replica its batch: one message, or several whose answers count as one (stored once all are).</summary>
    private void SendReplicaBatch(NodeId node, ReplicaBatch[] messages, ReplicaWriteCallback callback)
    {
        if (messages.Length == 1)
        {
            SendReplicaWrite(node, messages[0], callback);
            return;
        }

        if (_topology.ClientFor(node) is not { } client)
        {
            callback.OnFailure(new Transport.PeerUnavailableException($"no connection to {node}"));
            return;
        }

        var parts = new ReplicaBatchPartsCallback(messages.Length, callback);
        foreach (ReplicaBatch message in messages)
        {
            client.Send(message, _options.RequestTimeout, parts);
        }
    }
}
