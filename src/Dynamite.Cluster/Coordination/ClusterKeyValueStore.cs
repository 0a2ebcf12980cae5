using Dynamite.Cluster.Replication;
using Dynamite.Core.Bitmaps;
using Dynamite.Core.DataTypes;
using Dynamite.Core.HyperLogLogs;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Quorum;
using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// The front ends' store on a cluster node: Redis semantics over Dynamo replication, with the
/// last-writer-wins policy (DESIGN.md, "Data model"). A read is a quorum read whose siblings resolve to the
/// causally newest value, or among concurrent ones the highest (timestamp, node), the same on every node.
/// An operation (SET, DEL, MSET, APPEND...) first reads every key it declares, runs against those values,
/// then writes each changed key with the context it read, so a concurrent write becomes a sibling instead
/// of vanishing unseen. A blind write of keys of one partition (MSET of keys sharing a hash tag) is one transaction on
/// every replica (<see cref="ClusterCoordinator.TryPutBatchAsync"/>); across partitions nothing is atomic, and a
/// multi-key write that partly fails says so.
/// Read-modify-write commands (APPEND, SETNX...) are not linearizable here: two concurrent APPENDs of one key
/// may both read the same value, and last-writer-wins then keeps one of them (README, "Consistency"). Counters,
/// hashes and sets are typed keys instead (ClusterKeyValueStore.TypedKeys.cs): their changes merge.
/// </summary>
public sealed partial class ClusterKeyValueStore(ClusterCoordinator coordinator, TimeProvider clock, ClusterFlush? flush = null) : IKeyValueStore, IVersionedKeyValueStore
{
    /// <summary>Keys per engine page when <see cref="LiveKeyCount"/> walks the store.</summary>
    private const int LiveKeyCountPage = 1000;

    public long NowUnixMs => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Records stored on this node (tombstones and emptied typed keys included until collected): INFO keyspace, DYN.LOCALDBSIZE.</summary>
    public long KeyCount => coordinator.LocalReplica.KeyCount;

    public long KeysWithExpiryCount => coordinator.LocalReplica.Engine.KeysWithExpiryCount;

    public int ReplicationFactor => coordinator.Options.ReplicationFactor;

    public long LocalKeyCount => coordinator.LocalReplica.KeyCount;

    /// <summary>
    /// Set on the store a transaction's commands run against (<see cref="BeginStaged"/>): their writes are staged in it
    /// instead of written, and their reads see them.
    /// </summary>
    internal ReplicaTransaction? Transaction { get; init; }

    /// <summary>
    /// EXEC's and a script's store: on a primary of the transaction's partition its writes are one transaction on every
    /// replica (<see cref="StagedClusterStore"/>).
    /// </summary>
    public IStagedKeyValueStore BeginStaged() => new StagedClusterStore(this, coordinator, clock, flush);

    /// <summary>A write of a key this node is not a primary of runs on a primary (a typed change is built from a primary's state).</summary>
    public bool ForwardsWritesOf(ReadOnlySpan<byte> key) => coordinator.ForwardsWritesOf(key);

    public ValueTask<byte[]> ForwardCommandAsync(byte[] key, IReadOnlyList<byte[]> arguments, int protocolVersion, ConsistencyLevel? consistency, CancellationToken cancellationToken = default) =>
        coordinator.ForwardCommandAsync(key, arguments, protocolVersion, consistency, cancellationToken);

    public ValueTask<byte[]> ForwardTransactionAsync(byte[] key, IReadOnlyList<byte[]> arguments, int protocolVersion, ConsistencyLevel? consistency, CancellationToken cancellationToken = default) =>
        coordinator.ForwardTransactionAsync(key, arguments, protocolVersion, consistency, cancellationToken);

    /// <summary>A quorum read resolved when it is answered (<see cref="ClusterCoordinator.ReadAsync"/>: no state machine here).</summary>
    public ValueTask<ReadResult> ReadAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default) =>
        coordinator.ReadAsync(key, consistency, ResolveNow, ReadTypedKey, Transaction, cancellationToken);

    /// <summary><see cref="ReadTypedKeyAsync"/> as the coordinator calls it when a replica holds a typed key; made once.</summary>
    private Func<byte[], ConsistencyLevel?, CancellationToken, ValueTask<ReadResult>> ReadTypedKey => field ??= ReadTypedKeyAsync;

    /// <summary><see cref="Resolve"/> at the time the answer is taken; made once.</summary>
    private Func<VersionedObject, ReadResult> ResolveNow => field ??= merged => Resolve(merged, NowUnixMs);

    public ValueTask ExecuteAsync(IStorageOperation operation, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default) =>
        operation is IStepwiseOperation stepwise
            ? RunStepsAsync(stepwise, consistency, cancellationToken)
            : operation is IKeyDeltaOperation typed
            ? ApplyDeltaAsync(typed, consistency, cancellationToken)
            : operation is IElementReadOperation elementRead
            ? ReadElementsThenRunAsync(elementRead, consistency, cancellationToken)
            : operation is IMultiKeyElementReadOperation keysRead
            ? ReadKeysThenRunAsync(keysRead, consistency, cancellationToken)
            : operation.IsBlindWrite && operation.TouchedKeyCount == 1
            ? WriteOneBlindly(operation, consistency, cancellationToken)
            : ReadThenWriteAsync(operation, consistency, cancellationToken);

    /// <summary>
    /// The common SET: one key, nothing read. Hands the coordinator's write task back as it is, so the command costs no
    /// state machine of its own here (this path runs once per client write).
    /// </summary>
    private ValueTask WriteOneBlindly(IStorageOperation operation, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        byte[] key = operation.GetTouchedKey(0);
        long now = NowUnixMs;
        var transaction = new ClusterTransaction([key], [ReadResult.NotFound], now);
        try
        {
            operation.Execute(transaction);
        }
        catch (Exception exception)
        {
            return ValueTask.FromException(exception);
        }

        if (!transaction.TryGetChange(0, out StoredRecord? record))
        {
            return ValueTask.CompletedTask;
        }

        // A blind write carries no context.
        ValueTask<VersionedObject> put = PutStagedAsync(key, null, record, transaction.BitPatchesOf(0), now, consistency, cancellationToken);
        return put.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitBlindWriteAsync(put, operation, consistency, cancellationToken);
    }

    /// <summary>
    /// A blind write's answer. This node's replica refuses a blind string write over a counter (it would drop the
    /// increments the write has not seen) before anything is sent: the write is then made as a read-modify-write, which
    /// sees the counter and writes its register.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitBlindWriteAsync(ValueTask<VersionedObject> put, IStorageOperation operation, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        try
        {
            await put;
        }
        catch (TypedKeyException)
        {
            await ReadThenWriteAsync(operation, consistency, cancellationToken, readEvenIfBlind: true);
        }
    }

    private async ValueTask ReadThenWriteAsync(IStorageOperation operation, ConsistencyLevel? consistency, CancellationToken cancellationToken, bool readEvenIfBlind = false)
    {
        int count = operation.TouchedKeyCount;
        var keys = new byte[count][];
        var reads = new Task<VersionedObject>[count];
        bool blind = operation.IsBlindWrite && !readEvenIfBlind;
        for (int i = 0; i < count; i++)
        {
            keys[i] = operation.GetTouchedKey(i);
            reads[i] = blind ? Task.FromResult(VersionedObject.Empty) : coordinator.GetAsync(keys[i], consistency, Transaction, cancellationToken).AsTask();
        }

        long now = NowUnixMs;
        var objects = new VersionedObject[count];
        var results = new ReadResult[count];
        DataType?[]? typed = null;
        int failedReads = 0;
        StoreUnavailableException? firstFailure = null;
        for (int i = 0; i < count; i++)
        {
            try
            {
                try
                {
                    objects[i] = await reads[i];
                    results[i] = Resolve(objects[i], now);
                }
                catch (TypedKeyException)
                {
                    // A hash, a set or a counter (DEL, EXPIRE, SET of one): the operation sees its joined header, or a
                    // counter's value as a string.
                    (results[i], DataType? type) = await ProbeTypedKeyAsync(keys[i], consistency, cancellationToken);
                    (typed ??= new DataType?[count])[i] = type;
                    objects[i] = VersionedObject.Empty;
                }
            }
            catch (StoreUnavailableException exception)
            {
                failedReads++;
                firstFailure ??= exception;
            }
        }

        if (firstFailure is not null)
        {
            throw count == 1 ? firstFailure : new StoreUnavailableException($"{firstFailure.Message} ({failedReads} of {count} keys could not be read; nothing was written)", firstFailure);
        }

        var transaction = new ClusterTransaction(keys, results, now);
        operation.Execute(transaction);

        if (blind && count > 1)
        {
            // MSET and the like: keys of one partition go to every replica as one transaction.
            try
            {
                if (Transaction is { } staged)
                {
                    await staged.UpdateBatchAsync(StagedUpdates(keys, transaction, now), cancellationToken);
                    return;
                }

                if (await coordinator.TryPutBatchAsync(StagedUpdates(keys, transaction, now), consistency, cancellationToken))
                {
                    return;
                }
            }
            catch (TypedKeyException)
            {
                // A counter among the keys: nothing was written; a read-modify-write sees it and writes its register.
                await ReadThenWriteAsync(operation, consistency, cancellationToken, readEvenIfBlind: true);
                return;
            }
        }

        var writes = new List<Task>();
        for (int i = 0; i < count; i++)
        {
            Task? write = null;
            if (typed?[i] is { } type && transaction.TryGetChange(i, out StoredRecord? change))
            {
                write = ChangeTypedKeyAsync(keys[i], results[i], type, change, consistency, cancellationToken).AsTask();
            }
            else if (transaction.TryGetChange(i, out StoredRecord? record))
            {
                // A blind write supersedes whatever the coordinating replica holds (null context).
                write = PutStagedAsync(keys[i], blind ? null : objects[i].Context, record, transaction.BitPatchesOf(i), now, consistency, cancellationToken).AsTask();
            }

            if (write is null)
            {
                continue;
            }

            if (Transaction is not null)
            {
                // Staged writes go one after another: each stages over the ones before it.
                await write.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            writes.Add(write);
        }

        int failedWrites = 0;
        StoreUnavailableException? firstWriteFailure = null;
        foreach (Task write in writes)
        {
            try
            {
                await write;
            }
            catch (StoreUnavailableException exception)
            {
                failedWrites++;
                firstWriteFailure ??= exception;
            }
        }

        if (firstWriteFailure is not null)
        {
            throw writes.Count == 1 ? firstWriteFailure : new StoreUnavailableException(
                $"{firstWriteFailure.Message} ({failedWrites} of {writes.Count} keys were not written; the others were)", firstWriteFailure);
        }
    }

    /// <summary>What a blind operation staged, as the coordinating replica's updates (an expired record is a delete), each key once.</summary>
    private static List<ReplicaUpdate> StagedUpdates(byte[][] keys, ClusterTransaction transaction, long now)
    {
        var updates = new List<ReplicaUpdate>(keys.Length);
        for (int i = 0; i < keys.Length; i++)
        {
            if (transaction.TryGetChange(i, out StoredRecord? record))
            {
                byte[]? value = record is { } live && !live.IsExpiredAt(now) ? live.Value : null;
                updates.Add(new ReplicaUpdate(keys[i], null, value, value is null ? null : transaction.BitPatchesOf(i), value is null ? 0 : record!.Value.ExpiresAtUnixMs));
            }
        }

        return updates;
    }

    /// <summary>
    /// The quorum write of what an operation staged for a key (null: a delete). A record expired already is a delete
    /// (Redis: SET with a past EXAT removes the key).
    /// </summary>
    private ValueTask<VersionedObject> PutStagedAsync(byte[] key, VersionVector? context, StoredRecord? record, byte[]? bitPatches, long now, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        byte[]? value = record is { } live && !live.IsExpiredAt(now) ? live.Value : null;
        long expiresAt = value is null ? 0 : record!.Value.ExpiresAtUnixMs;
        if (Transaction is { } staged)
        {
            return staged.UpdateAsync(new ReplicaUpdate(key, context, value, value is null ? null : bitPatches, expiresAt), cancellationToken);
        }

        return value is not null && bitPatches is not null
            ? coordinator.PutBitsAsync(key, context, value, bitPatches, expiresAt, consistency, cancellationToken)
            : coordinator.PutAsync(key, context, value, expiresAt, consistency, cancellationToken);
    }

    public long ChangeCount => coordinator.LocalReplica.Engine.ChangedRecordCount;

    /// <summary>This node's live keys, counted a page of <see cref="LiveKeyCountPage"/> at a time.</summary>
    public long LiveKeyCount
    {
        get
        {
            long count = 0;
            ulong? from = 0;
            while (from is { } next)
            {
                ScanPage page = Scan(next, LiveKeyCountPage);
                count += page.Keys.Count;
                from = page.NextHash;
            }

            return count;
        }
    }

    /// <summary>This node's live keys (SCAN, KEYS): on a cluster node, the keys it stores itself.</summary>
    public ScanPage Scan(ulong fromHash, int limit)
    {
        ScanPage page = coordinator.LocalReplica.Engine.Scan(fromHash, limit, NowUnixMs);
        var live = new List<byte[]>(page.Keys.Count);
        long now = NowUnixMs;
        foreach (byte[] key in page.Keys)
        {
            if (!coordinator.LocalReplica.Engine.TryRead(key, now, out StoredRecord record))
            {
                continue;
            }

            // A typed key is live while this replica holds an element of it (its header outlives its last element).
            bool isLive = record.IsTypedHeader
                ? TypedKeyRecord.CountOf(record.Value) > 0
                : Resolve(ReplicaStore.Decode(key, record.Value), now).Found;
            if (isLive)
            {
                live.Add(key);
            }
        }

        return new ScanPage(live, page.NextHash);
    }

    /// <summary>FLUSHALL and FLUSHDB: a cluster-wide flush (<see cref="ClusterFlush"/>).</summary>
    public async ValueTask ClearAsync(CancellationToken cancellationToken = default)
    {
        if (flush is null)
        {
            throw new StoreUnavailableException("ERR FLUSHALL and FLUSHDB are not available on this node");
        }

        await flush.FlushAsync(cancellationToken);
    }

    public ValueTask<VersionedObject> GetVersionedAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency, CancellationToken cancellationToken = default) =>
        coordinator.GetAsync(key, consistency, Transaction, cancellationToken);

    public async ValueTask PutVersionedAsync(byte[] key, VersionVector context, byte[]? value, ConsistencyLevel? consistency, CancellationToken cancellationToken = default) =>
        await (Transaction is { } staged
            ? staged.UpdateAsync(new ReplicaUpdate(key, context, value, null, 0), cancellationToken)
            : coordinator.PutAsync(key, context, value, 0, consistency, cancellationToken));

    public VersionedObject? ReadLocal(ReadOnlySpan<byte> key) => coordinator.LocalReplica.Read(key);

    /// <summary>
    /// Last-writer-wins over the siblings: the winner (the same on every node) is the value, unless it is a
    /// tombstone or has expired. A HyperLogLog declares its own rule: when the winner is a sketch, every live sibling
    /// that is a sketch joins it register-wise (concurrent PFADDs through different nodes both count), and the next
    /// write, made with the context this read returns, replaces them all with the union. So does a string written by
    /// bit commands: when every live sibling was, they join bitwise (<see cref="BitmapSiblings"/>).
    /// </summary>
    public static ReadResult Resolve(VersionedObject merged, long nowUnixMs)
    {
        Sibling? winner = merged.ResolveLastWriterWins();
        if (winner is null || winner.IsTombstone || winner.IsExpiredAt(nowUnixMs))
        {
            return ReadResult.NotFound;
        }

        if (merged.Siblings.Length > 1 && HyperLogLog.IsSketch(winner.Value) && UnionOfLiveSketches(merged, nowUnixMs) is { } union)
        {
            return ReadResult.Of(new StoredRecord(union, winner.ExpiresAtUnixMs));
        }

        if (merged.Siblings.Length > 1 && winner.BitPatches is not null && JoinOfLiveBitmaps(merged, nowUnixMs) is { } joined)
        {
            return ReadResult.Of(new StoredRecord(joined, winner.ExpiresAtUnixMs));
        }

        return ReadResult.Of(new StoredRecord(winner.Value!, winner.ExpiresAtUnixMs));
    }

    // The two joins below capture the read's time in their lambdas. Apart from Resolve, so that its common path (one
    // sibling, every cluster GET) does not allocate their closure on entry.
    private static byte[]? UnionOfLiveSketches(VersionedObject merged, long nowUnixMs) =>
        HyperLogLog.Union(merged.Siblings.Where(s => !s.IsTombstone && !s.IsExpiredAt(nowUnixMs) && HyperLogLog.IsSketch(s.Value)).Select(s => s.Value!));

    private static byte[]? JoinOfLiveBitmaps(VersionedObject merged, long nowUnixMs) =>
        BitmapSiblings.TryJoin([.. merged.Siblings.Where(s => !s.IsTombstone && !s.IsExpiredAt(nowUnixMs))]);
}
