using Dynamite.Storage.Metrics;
using RocksDbSharp;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// The RocksDB part of the group-commit writer (<see cref="GroupCommitWriter"/>): a group's surviving changes, the
/// expiry-index entries they move and the new key counters go into one <see cref="WriteBatch"/>
/// (<see cref="RocksDbChangeWriter"/>), written once. Under <see cref="FsyncPolicy.Batch"/> the WAL is synced about once
/// a second (<see cref="RocksDbWalSyncSchedule"/>), by the writer itself between two rounds or on a queued request.
/// </summary>
internal sealed class RocksDbWriter : GroupCommitWriter
{
    private readonly RocksDbStore _store;
    private readonly RocksDbWalSyncSchedule? _walSyncs;

    // Writer thread only. The option and batch objects free their native handles in finalizers; as fields they stay
    // reachable for as long as the writer can use them.
    private readonly WriteOptions _writeOptions;
    private readonly WriteBatch _writeBatch = new();
    private readonly RocksDbChangeWriter _changes;
    private readonly RocksDbBatchTransaction _transaction;

    public RocksDbWriter(RocksDbStore store, FsyncPolicy fsyncPolicy, long keyCount, long keysWithExpiryCount, long recordCacheBytes, EngineMetrics? metrics = null, TimeProvider? clock = null)
        : base("RocksDB", nameof(RocksDbStorageEngine), keyCount, keysWithExpiryCount, metrics, recordCacheBytes, wakeWriterInline: false)
    {
        _store = store;

        // Always: every group's WAL write is synced before anyone is acknowledged. Batch and never: the WAL is
        // written to the operating system on every group (so a killed process loses nothing acknowledged) but only
        // synced by the schedule below (batch) or at flush (never).
        _writeOptions = new WriteOptions().SetSync(fsyncPolicy == FsyncPolicy.Always);
        _changes = new RocksDbChangeWriter(store, _writeBatch);
        _transaction = new RocksDbBatchTransaction(Cache, store);
        if (fsyncPolicy == FsyncPolicy.Batch)
        {
            _walSyncs = new RocksDbWalSyncSchedule(clock ?? TimeProvider.System, () => TryEnqueueUnawaited(StorageWriteRequest.For(StorageWriteKind.SyncWal)));
        }

        Start();
    }

    /// <summary>The batch policy's periodic WAL syncs so far; 0 under the other policies.</summary>
    public long WalSyncCount => _walSyncs?.SyncCount ?? 0;

    protected override BatchTransaction Transaction => _transaction;

    protected override (long KeyDelta, long ExpiryDelta) WriteGroup()
    {
        (long keyDelta, long expiryDelta) = _changes.Apply(_transaction);
        RocksDbMetadata.StageCounters(_writeBatch, _store.Meta, KeyCount + keyDelta, KeysWithExpiryCount + expiryDelta);
        _store.Write(_writeBatch, _writeOptions);
        return (keyDelta, expiryDelta);
    }

    protected override void EndGroup() => _writeBatch.Clear();

    /// <summary>Syncs the WAL and flushes the memtables into table files.</summary>
    protected override void Flush() => _store.FlushToDisk();

    /// <summary>The batch policy's timer queued a WAL sync.</summary>
    protected override int RunEngineRequest(StorageWriteRequest request)
    {
        if (request.Kind != StorageWriteKind.SyncWal)
        {
            return base.RunEngineRequest(request);
        }

        _walSyncs?.SyncIfWritten(_store);
        return 0;
    }

    protected override void AfterRound()
    {
        if (_walSyncs is { IsDue: true })
        {
            _walSyncs.SyncIfWritten(_store);
        }
    }

    protected override void OnCommitted() => _walSyncs?.MarkWritten();

    protected override async ValueTask StopBesideWorkAsync()
    {
        if (_walSyncs is not null)
        {
            await _walSyncs.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Syncs the WAL and flushes the memtables, so a clean shutdown leaves nothing to replay.</summary>
    protected override void FinishAfterDrain() => _store.FlushToDisk();

    /// <summary>Frees the write batch. The database is the store's.</summary>
    protected override void DisposeResources() => _writeBatch.Dispose();

    /// <summary>
    /// Deletes up to <paramref name="maxKeys"/> records expired at <paramref name="nowUnixMs"/>, earliest expiry first,
    /// with their keys' elements and index entries, in one batch. The expiry index is ordered by time, so this reads only the expired
    /// prefix of the index, never the data. Every index entry names a record with exactly that expiry (they are only
    /// ever written together).
    /// </summary>
    protected override int RemoveExpired(long nowUnixMs, int maxKeys, List<byte[]>? removedKeys)
    {
        int removed = 0;
        try
        {
            using (Iterator index = _store.NewIterator(_store.Expiry))
            using (Iterator elements = _store.NewIterator(_store.Elements))
            using (Iterator indexEntries = _store.NewIterator(_store.IndexEntries))
            {
                index.SeekToFirst();
                while (removed < maxKeys && index.Valid())
                {
                    ReadOnlySpan<byte> indexKey = index.GetKeySpan();
                    if (RocksDbKeys.ExpiryOf(indexKey) > nowUnixMs)
                    {
                        break;
                    }

                    ReadOnlySpan<byte> dataKey = RocksDbKeys.DataKeyOfExpiryKey(indexKey);
                    _writeBatch.Delete(indexKey, _store.Expiry);
                    _writeBatch.Delete(dataKey, _store.Data);
                    _store.StageDeleteElements(_store.ElementSpace, _writeBatch, elements, RocksDbKeys.HashOf(dataKey), RocksDbKeys.UserKeyOf(dataKey));
                    _store.StageDeleteElements(_store.IndexSpace, _writeBatch, indexEntries, RocksDbKeys.HashOf(dataKey), RocksDbKeys.UserKeyOf(dataKey));
                    removedKeys?.Add(RocksDbKeys.UserKeyOf(dataKey).ToArray());
                    removed++;
                    index.Next();
                }

                if (!index.Valid())
                {
                    RocksDbStore.ThrowIfFailed(index);
                }
            }

            if (removed == 0)
            {
                return 0;
            }

            // Only keys with an expiry are swept, so both counters drop by the same amount.
            RocksDbMetadata.StageCounters(_writeBatch, _store.Meta, KeyCount - removed, KeysWithExpiryCount - removed);
            _store.Write(_writeBatch, _writeOptions);
        }
        finally
        {
            _writeBatch.Clear();
        }

        Publish(KeyCount - removed, KeysWithExpiryCount - removed);
        return removed;
    }

    /// <summary>Deletes every record, element and index entry, and zeroes the counters, in one batch.</summary>
    protected override void Clear()
    {
        try
        {
            StageDeleteAll(_store.Data);
            StageDeleteAll(_store.Expiry);
            StageDeleteAll(_store.Elements);
            StageDeleteAll(_store.IndexEntries);
            _store.ElementSpace.Ends.Clear();
            _store.IndexSpace.Ends.Clear();
            RocksDbMetadata.StageCounters(_writeBatch, _store.Meta, 0, 0);
            _store.Write(_writeBatch, _writeOptions);
        }
        finally
        {
            _writeBatch.Clear();
        }

        Publish(0, 0);
    }

    /// <summary>
    /// Stages the deletion of every key of <paramref name="family"/>. A range delete's end is exclusive and keys have
    /// no longest form, so one range tombstone [empty, FF×8) covers every key whose first eight bytes (hash or
    /// expiry) are not all 0xFF; the keys that are (hash 2^64-1: practically never) are deleted one by one.
    /// </summary>
    private void StageDeleteAll(ColumnFamilyHandle family)
    {
        byte[] end = RocksDbKeys.MaxHashPrefix.ToArray();
        _writeBatch.DeleteRange([], 0, end, (ulong)end.Length, family);
        using Iterator tail = _store.NewIterator(family);
        for (tail.Seek(end); tail.Valid(); tail.Next())
        {
            _writeBatch.Delete(tail.GetKeySpan(), family);
        }

        RocksDbStore.ThrowIfFailed(tail);
    }
}
