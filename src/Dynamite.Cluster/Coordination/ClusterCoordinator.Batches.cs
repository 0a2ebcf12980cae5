using Dynamite.Cluster.Replication;
using Dynamite.Core.Coordination;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer.Messages;
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
    /// this node is not a primary of theirs, or a replica is down so that a fallback stands in (a fallback keeps hints,
    /// one key each): the caller then writes the keys one by one. Throws <see cref="StoreUnavailableException"/> when W was
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

        if (updates.Count > ReplicaBatch.MaxEntries || !FitsOneMessage(updates))
        {
            // Too many keys or bytes for one replica message: written key by key instead.
            return false;
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
            written = await _local.UpdateBatchEncodedAsync(updates, _actor, cancellationToken);
        }
        catch
        {
            ReleaseSlots(remote);
            throw;
        }

        var batch = new (byte[] Key, VersionedObject Written)[updates.Count];
        var entries = new ReplicaBatchEntry[updates.Count];
        for (int i = 0; i < updates.Count; i++)
        {
            batch[i] = (updates[i].Key, written[i].Written);
            entries[i] = new ReplicaBatchEntry(ReplicaBatchEntryKind.VersionedObject, updates[i].Key, written[i].Encoded);
        }

        var write = new PendingWrite(request, updates[0].Key, written[0].Written) { Batch = batch };
        lock (request)
        {
            request.OnLocalWrite();
        }

        if (request.Outcome != PutOutcome.Pending)
        {
            write.TrySetResult();
        }

        var message = new ReplicaBatch(entries);
        for (int i = 0; i < replicaWrites.Count; i++)
        {
            SendReplicaWrite(replicaWrites[i].Node, message, new ReplicaWriteCallback(this, write, replicaWrites[i].Node, countsTowardsW: true));
        }

        foreach (NodeId gainer in gainers)
        {
            SendReplicaWrite(gainer, message, new ReplicaWriteCallback(this, write, gainer, countsTowardsW: false));
        }

        await write.Answer;
        lock (request)
        {
            return request.Outcome == PutOutcome.Ok
                ? true
                : throw new StoreUnavailableException(
                    $"NOQUORUM write quorum not reached: {request.Acknowledgements} of {request.W} acknowledgements (W={request.W}, N={n}{Unreachable(list)}); the writes may be applied on some replicas");
        }
    }

    /// <summary>Whether the batch's encoded objects certainly fit one message: each value, key and a generous allowance
    /// for its versions and framing, against half of <see cref="Core.Peer.PeerLimits.MaxObjectBytes"/>.</summary>
    private static bool FitsOneMessage(IReadOnlyList<ReplicaUpdate> updates)
    {
        const long PerEntryAllowance = 4096;
        long bytes = 0;
        foreach (ReplicaUpdate update in updates)
        {
            bytes += update.Key.Length + (update.Value?.Length ?? 0) + (update.BitPatches?.Length ?? 0) + PerEntryAllowance;
        }

        return bytes <= Core.Peer.PeerLimits.MaxObjectBytes / 2;
    }
}
