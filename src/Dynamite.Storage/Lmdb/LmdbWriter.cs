using Dynamite.Storage.Metrics;
using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// The LMDB part of the group-commit writer (<see cref="GroupCommitWriter"/>): a group is one LMDB write transaction, in
/// which the operations read the committed state (<see cref="LmdbBatchTransaction"/>) and into which the surviving
/// changes of records and elements, the expiry-index entries they move and the new key counters are applied (<see cref="LmdbChangeWriter"/>)
/// before it commits once. A write transaction belongs to the thread that began it, which the writer's own thread
/// guarantees. Under <see cref="FsyncPolicy.Batch"/> a thread of its own syncs the file about once a second
/// (<see cref="LmdbSyncSchedule"/>), so the writer never waits for the disk.
/// </summary>
internal sealed class LmdbWriter : GroupCommitWriter
{
    private readonly LmdbStore _store;
    private readonly LmdbSyncSchedule? _syncs;

    // Writer thread only.
    private readonly LmdbChangeWriter _changes;
    private readonly LmdbBatchTransaction _transaction;

    public LmdbWriter(LmdbStore store, FsyncPolicy fsyncPolicy, long keyCount, long keysWithExpiryCount, long recordCacheBytes, EngineMetrics? metrics = null, TimeProvider? clock = null)
        : base("LMDB", nameof(LmdbStorageEngine), keyCount, keysWithExpiryCount, metrics, recordCacheBytes, wakeWriterInline: false)
    {
        _store = store;
        _transaction = new LmdbBatchTransaction(Cache, store);
        _changes = new LmdbChangeWriter(store, _transaction);

        // Always: the environment syncs every commit. Batch: it syncs none (MDB_NOSYNC), and this schedule syncs about
        // once a second on its own thread. Never: nothing syncs until a flush.
        if (fsyncPolicy == FsyncPolicy.Batch)
        {
            _syncs = new LmdbSyncSchedule(store, clock ?? TimeProvider.System);
        }

        Start();
    }

    /// <summary>The batch policy's periodic syncs so far; 0 under the other policies.</summary>
    public long SyncCount => _syncs?.SyncCount ?? 0;

    protected override BatchTransaction Transaction => _transaction;

    protected override void BeginGroup() => _transaction.Transaction = _store.BeginWrite();

    /// <summary>Applies the group in its write transaction and commits it. A failure (a full map) leaves the transaction
    /// to be aborted, so nothing of the group is kept.</summary>
    protected override (long KeyDelta, long ExpiryDelta) WriteGroup()
    {
        LightningTransaction transaction = _transaction.Transaction!;
        (long keyDelta, long expiryDelta) = _changes.Apply(_transaction);
        _store.PutCounters(transaction, KeyCount + keyDelta, KeysWithExpiryCount + expiryDelta);
        _store.Commit(transaction);
        return (keyDelta, expiryDelta);
    }

    /// <summary>Aborts the group's transaction unless it committed (LightningDB aborts only a transaction still open).</summary>
    protected override void EndGroup()
    {
        _transaction.Transaction?.Dispose();
        _transaction.Transaction = null;
    }

    protected override void Flush() => _store.Sync();

    protected override void OnCommitted() => _syncs?.MarkWritten();

    /// <summary>Stops the periodic syncs, then syncs everything while the environment is open.</summary>
    protected override void FinishAfterDrain()
    {
        _syncs?.Dispose();
        _store.Sync();
    }

    protected override void OnFailed()
    {
        EndGroup();
        _syncs?.Dispose();
    }

    /// <summary>Stops the sync thread if the writer has not (it does when it stops). The environment is the store's.</summary>
    protected override void DisposeResources() => _syncs?.Dispose();

    /// <summary>
    /// Deletes up to <paramref name="maxKeys"/> records expired at <paramref name="nowUnixMs"/>, earliest expiry first,
    /// with their keys' elements, in one transaction. The expiry index is ordered by time, so this reads only the expired prefix of the index,
    /// never the data. Every index entry names a record with exactly that expiry (they are only ever written together).
    /// </summary>
    protected override int RemoveExpired(long nowUnixMs, int maxKeys, List<byte[]>? removedKeys)
    {
        using LightningTransaction transaction = _store.BeginWrite();
        var expired = new List<byte[]>(Math.Min(maxKeys, 1024));
        using (LightningCursor cursor = transaction.CreateCursor(_store.Expiry))
        {
            (MDBResultCode result, MDBValue key, _) = cursor.First();
            while (expired.Count < maxKeys && result == MDBResultCode.Success)
            {
                ReadOnlySpan<byte> indexKey = key.AsSpan();
                if (LmdbKeys.ExpiryOf(indexKey) > nowUnixMs)
                {
                    break;
                }

                // Copied: the map's pages move once this transaction writes.
                expired.Add(indexKey.ToArray());
                (result, key, _) = cursor.Next();
            }

            if (result != MDBResultCode.NotFound)
            {
                _store.Check(result);
            }
        }

        if (expired.Count == 0)
        {
            return 0;
        }

        Span<byte> elementPrefix = stackalloc byte[LmdbKeys.StackKeyLimit];
        foreach (byte[] indexKey in expired)
        {
            ReadOnlySpan<byte> dataKey = LmdbKeys.DataKeyOfExpiryKey(indexKey);
            if (removedKeys is not null && !LmdbKeys.IsLongDataKey(dataKey))
            {
                removedKeys.Add(LmdbKeys.InlineUserKeyOf(dataKey).ToArray());
            }
            else if (removedKeys is not null && _store.TryGet(transaction, _store.Data, dataKey, out ReadOnlySpan<byte> encoded))
            {
                // A long key's data key holds only its prefix and digest; its record carries the whole key.
                removedKeys.Add(LmdbRecordCodec.KeyOf(encoded).ToArray());
            }

            _store.Delete(transaction, _store.Expiry, indexKey);
            _store.Delete(transaction, _store.Data, dataKey);
            int elementPrefixLength = LmdbKeys.WriteElementPrefixOfDataKey(dataKey, elementPrefix);
            _store.DeleteRange(transaction, _store.Elements, elementPrefix[..elementPrefixLength]);
            _store.DeleteRange(transaction, _store.IndexEntries, elementPrefix[..elementPrefixLength]);
        }

        // Only keys with an expiry are swept, so both counters drop by the same amount.
        int removed = expired.Count;
        _store.PutCounters(transaction, KeyCount - removed, KeysWithExpiryCount - removed);
        _store.Commit(transaction);
        Publish(KeyCount - removed, KeysWithExpiryCount - removed);
        return removed;
    }

    /// <summary>Empties the data, the elements, the index entries and the expiry index and zeroes the counters, in one transaction.</summary>
    protected override void Clear()
    {
        using LightningTransaction transaction = _store.BeginWrite();
        _store.Truncate(transaction, _store.Data);
        _store.Truncate(transaction, _store.Expiry);
        _store.Truncate(transaction, _store.Elements);
        _store.Truncate(transaction, _store.IndexEntries);
        _store.PutCounters(transaction, 0, 0);
        _store.Commit(transaction);
        Publish(0, 0);
    }
}
