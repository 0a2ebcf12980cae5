using System.Diagnostics;
using System.Threading.Channels;
using Dynamite.Storage.Metrics;
using RocksDbSharp;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// The one thread that changes the database. Callers enqueue requests into a bounded queue (a full queue makes
/// callers wait: back-pressure, never a dropped write). The thread takes every request available, up to
/// <see cref="MaxGroupSize"/>, and runs the operations among them as one group: each against the group's overlay
/// view, in queue order; then the surviving changes, the expiry-index entries they move and the new key counters go
/// into one <see cref="WriteBatch"/>, written once. One write, and under <see cref="FsyncPolicy.Always"/> one WAL
/// sync, then pays for the whole group. Each caller's task completes only after that write returned.
/// <para>
/// A dedicated thread rather than a pool task: writes block on disk I/O (fsync), which must not tie up the thread
/// pool that serves the network. Counters are published after each write with volatile writes, so readers take
/// them without a lock. This is the SQLite engine's writer design (<c>SqliteWriter</c>) over RocksDB.
/// </para>
/// </summary>
internal sealed class RocksDbWriter : IDisposable
{
    /// <summary>Requests that can wait for the writer before callers are made to wait.</summary>
    public const int QueueCapacity = 4096;

    /// <summary>Most requests taken per round: bounds a group's batch, and so its write latency and memory.</summary>
    public const int MaxGroupSize = 512;

    private readonly RocksDbStore _store;
    private readonly EngineMetrics? _metrics;
    private readonly Channel<StorageWriteRequest> _queue;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RocksDbWalSyncSchedule? _walSyncs;

    // Writer thread only. The option and batch objects free their native handles in finalizers; as fields they stay
    // reachable for as long as the writer can use them.
    private readonly WriteOptions _writeOptions;
    private readonly WriteBatch _writeBatch = new();
    private readonly RocksDbChangeWriter _changes;
    private readonly RocksDbBatchTransaction _transaction;
    private readonly List<StorageWriteRequest> _batch = new(MaxGroupSize);
    private readonly List<StorageWriteRequest> _group = new(MaxGroupSize);

    // Written by the writer thread only; read by any thread.
    private long _keyCount;
    private long _keysWithExpiryCount;
    private long _commitCount;
    private volatile Exception? _failure;
    private volatile bool _stopping;

    public RocksDbWriter(RocksDbStore store, FsyncPolicy fsyncPolicy, long keyCount, long keysWithExpiryCount, EngineMetrics? metrics = null, TimeProvider? clock = null)
    {
        _store = store;
        _metrics = metrics;
        _keyCount = keyCount;
        _keysWithExpiryCount = keysWithExpiryCount;

        // Always: every group's WAL write is synced before anyone is acknowledged. Batch and never: the WAL is
        // written to the operating system on every group (so a killed process loses nothing acknowledged) but only
        // synced by the schedule below (batch) or at flush (never).
        _writeOptions = new WriteOptions().SetSync(fsyncPolicy == FsyncPolicy.Always);
        _changes = new RocksDbChangeWriter(store);
        _transaction = new RocksDbBatchTransaction(store);
        _queue = Channel.CreateBounded<StorageWriteRequest>(new BoundedChannelOptions(QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        _thread = new Thread(Run) { IsBackground = true, Name = "dynamite-rocksdb-writer" };
        _thread.Start();
        if (fsyncPolicy == FsyncPolicy.Batch)
        {
            _walSyncs = new RocksDbWalSyncSchedule(clock ?? TimeProvider.System, () => !_stopping && _queue.Writer.TryWrite(StorageWriteRequest.For(StorageWriteKind.SyncWal)));
        }
    }

    public long KeyCount => Volatile.Read(ref _keyCount);

    public long KeysWithExpiryCount => Volatile.Read(ref _keysWithExpiryCount);

    public long CommitCount => Volatile.Read(ref _commitCount);

    /// <summary>The batch policy's periodic WAL syncs so far; 0 under the other policies.</summary>
    public long WalSyncCount => _walSyncs?.SyncCount ?? 0;

    /// <summary>True once the writer thread has ended (drained after <see cref="StopAsync"/>, or failed).</summary>
    public bool HasStopped => _stopped.Task.IsCompleted;

    /// <summary>
    /// Queues <paramref name="request"/> and returns its completion. Waits for room when the queue is full;
    /// <paramref name="cancellationToken"/> cancels that wait, or the request while it is still queued.
    /// </summary>
    public Task<int> EnqueueAsync(StorageWriteRequest request, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<int>(cancellationToken);
        }

        if (_stopping)
        {
            return Task.FromException<int>(StoppedException());
        }

        request.RegisterCancellation(cancellationToken);
        return _queue.Writer.TryWrite(request) ? request.Task : EnqueueWhenRoomAsync(request, cancellationToken);
    }

    /// <summary>
    /// Stops accepting requests, lets the thread drain the queue, write and flush everything to disk, and waits for
    /// it. Throws <see cref="TimeoutException"/> if that takes longer than <paramref name="timeout"/>.
    /// </summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        _stopping = true;
        if (_walSyncs is not null)
        {
            await _walSyncs.DisposeAsync().ConfigureAwait(false);
        }

        _queue.Writer.TryComplete();
        await _stopped.Task.WaitAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Frees the write batch; only after the thread has stopped (<see cref="HasStopped"/>). The database is the store's.</summary>
    public void Dispose()
    {
        if (!HasStopped)
        {
            throw new InvalidOperationException("The writer thread is still running; stop it first.");
        }

        _writeBatch.Dispose();
    }

    private async Task<int> EnqueueWhenRoomAsync(StorageWriteRequest request, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            Exception stopped = StoppedException();
            request.Fail(stopped);
            throw stopped;
        }

        return await request.Task.ConfigureAwait(false);
    }

    private Exception StoppedException() => _failure is { } failure
        ? new InvalidOperationException("The RocksDB engine's writer stopped after an error; see the inner exception.", failure)
        : new ObjectDisposedException(nameof(RocksDbStorageEngine));

    private void Run()
    {
        try
        {
            while (WaitForRequests())
            {
                while (_batch.Count < MaxGroupSize && _queue.Reader.TryRead(out StorageWriteRequest? request))
                {
                    _batch.Add(request);
                }

                ProcessBatch();
                _batch.Clear();
            }

            // Stopped and drained: make everything durable while the database is still open.
            _store.FlushToDisk();
            _stopped.TrySetResult();
        }
        catch (Exception exception)
        {
            // A bug or an unusable database. Fail everyone still waiting rather than leaving them hanging, and
            // refuse new work with this exception as the cause.
            _failure = exception;
            _stopping = true;
            _queue.Writer.TryComplete();
            foreach (StorageWriteRequest request in _batch)
            {
                request.Fail(exception);
            }

            while (_queue.Reader.TryRead(out StorageWriteRequest? request))
            {
                request.Fail(exception);
            }

            _stopped.TrySetException(exception);
        }
    }

    /// <summary>Blocks the writer thread until a request is queued; false once the queue is completed and empty.</summary>
    private bool WaitForRequests()
    {
        ValueTask<bool> wait = _queue.Reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    private void ProcessBatch()
    {
        foreach (StorageWriteRequest request in _batch)
        {
            if (request.Kind == StorageWriteKind.Operation)
            {
                if (request.TryStart())
                {
                    RunOperation(request);
                }

                continue;
            }

            // Every other request sees the database as the operations queued before it left it.
            CommitGroup();
            if (!request.TryStart())
            {
                continue;
            }

            try
            {
                request.Succeed(RunMaintenance(request));
            }
            catch (Exception exception)
            {
                request.Fail(exception);
            }
        }

        CommitGroup();
        if (_walSyncs is { IsDue: true })
        {
            _walSyncs.SyncIfWritten(_store);
        }
    }

    /// <summary>Runs one operation into the current group; a throwing operation fails alone, its staged changes dropped.</summary>
    private void RunOperation(StorageWriteRequest request)
    {
        StagedChanges changes = _transaction.Changes;
        int mark = changes.Count;
        _transaction.NowUnixMs = request.NowUnixMs;
        try
        {
            request.Operation!.Execute(_transaction);
        }
        catch (Exception exception)
        {
            changes.TruncateTo(mark);
            request.Fail(exception);
            return;
        }

        _group.Add(request);
    }

    /// <summary>Writes the group's changes as one batch; then, and only then, acknowledges its operations. If staging
    /// or writing fails, the whole group fails with that exception and nothing of it is kept (a batch is atomic).
    /// A group that changed nothing (every operation only read, or threw) writes nothing.</summary>
    private void CommitGroup()
    {
        if (_group.Count == 0)
        {
            _transaction.ClearGroup();
            return;
        }

        try
        {
            if (_transaction.Changes.Count > 0)
            {
                long started = _metrics is { Enabled: true } ? Stopwatch.GetTimestamp() : 0;
                long keyDelta;
                long expiryDelta;
                try
                {
                    (keyDelta, expiryDelta) = _changes.Stage(_transaction, _writeBatch);
                    RocksDbMetadata.StageCounters(_writeBatch, _store.Meta, KeyCount + keyDelta, KeysWithExpiryCount + expiryDelta);
                    _store.Write(_writeBatch, _writeOptions);
                }
                catch (Exception exception)
                {
                    foreach (StorageWriteRequest request in _group)
                    {
                        request.Fail(exception);
                    }

                    return;
                }

                Publish(KeyCount + keyDelta, KeysWithExpiryCount + expiryDelta);
                if (started != 0)
                {
                    _metrics!.CommitDone(started);
                }
            }

            foreach (StorageWriteRequest request in _group)
            {
                if (request.StartTimestamp != 0)
                {
                    _metrics!.WriteDone(request.StartTimestamp);
                }

                request.Succeed(0);
            }
        }
        finally
        {
            _writeBatch.Clear();
            _group.Clear();
            _transaction.ClearGroup();
        }
    }

    private int RunMaintenance(StorageWriteRequest request)
    {
        switch (request.Kind)
        {
            case StorageWriteKind.RemoveExpired:
                return RemoveExpired(request.NowUnixMs, request.MaxKeys);
            case StorageWriteKind.Clear:
                Clear();
                return 0;
            case StorageWriteKind.Flush:
                _store.FlushToDisk();
                return 0;
            case StorageWriteKind.SyncWal:
                _walSyncs?.SyncIfWritten(_store);
                return 0;
            default:
                throw new InvalidOperationException($"Unknown write request kind {request.Kind}.");
        }
    }

    /// <summary>
    /// Deletes up to <paramref name="maxKeys"/> records expired at <paramref name="nowUnixMs"/>, earliest expiry first,
    /// in one batch. The expiry index is ordered by time, so this reads only the expired prefix of the index, never
    /// the data. Every index entry names a record with exactly that expiry (they are only ever written together).
    /// </summary>
    private int RemoveExpired(long nowUnixMs, int maxKeys)
    {
        int removed = 0;
        try
        {
            using (Iterator index = _store.NewIterator(_store.Expiry))
            {
                index.SeekToFirst();
                while (removed < maxKeys && index.Valid())
                {
                    ReadOnlySpan<byte> indexKey = index.GetKeySpan();
                    if (RocksDbKeys.ExpiryOf(indexKey) > nowUnixMs)
                    {
                        break;
                    }

                    _writeBatch.Delete(indexKey, _store.Expiry);
                    _writeBatch.Delete(RocksDbKeys.DataKeyOfExpiryKey(indexKey), _store.Data);
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

    /// <summary>Deletes every record and index entry, and zeroes the counters, in one batch.</summary>
    private void Clear()
    {
        try
        {
            StageDeleteAll(_store.Data);
            StageDeleteAll(_store.Expiry);
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

    private void Publish(long keyCount, long keysWithExpiryCount)
    {
        Volatile.Write(ref _keyCount, keyCount);
        Volatile.Write(ref _keysWithExpiryCount, keysWithExpiryCount);
        Volatile.Write(ref _commitCount, _commitCount + 1);
        _walSyncs?.MarkWritten();
    }
}
