using System.Diagnostics;
using System.Threading.Channels;
using Dynamite.Storage.Metrics;
using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// The one thread that changes the database. Callers enqueue requests into a bounded queue (a full queue makes
/// callers wait: back-pressure, never a dropped write). The thread takes every request available, up to
/// <see cref="MaxGroupSize"/>, and runs the operations among them as one group: each against the group's overlay view
/// (<see cref="LmdbBatchTransaction"/>: the group's write transaction, which still reads the committed state, plus the
/// changes staged so far), in queue order; then the surviving changes, the expiry-index entries they move and the new
/// key counters are applied in that one write transaction, committed once. One commit, and under
/// <see cref="FsyncPolicy.Always"/> one sync, then pays for the whole group. Each caller's task completes only after
/// the commit returned; an operation that throws fails alone, its staged changes dropped before anything is applied.
/// <para>
/// A dedicated thread rather than a pool task: commits block on disk I/O (fsync), which must not tie up the thread
/// pool that serves the network, and an LMDB write transaction belongs to the thread that began it. Counters are
/// published after each commit with volatile writes, so readers take them without a lock. This is the SQLite and
/// RocksDB engines' writer design (<c>SqliteWriter</c>, <c>RocksDbWriter</c>) over LMDB.
/// </para>
/// </summary>
internal sealed class LmdbWriter : IDisposable
{
    /// <summary>Requests that can wait for the writer before callers are made to wait.</summary>
    public const int QueueCapacity = 4096;

    /// <summary>Most requests taken per round: bounds a group's transaction, and so its commit latency and memory.</summary>
    public const int MaxGroupSize = 512;

    private readonly LmdbStore _store;
    private readonly EngineMetrics? _metrics;
    private readonly Channel<StorageWriteRequest> _queue;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly LmdbSyncSchedule? _syncs;

    // Writer thread only.
    private readonly LmdbChangeWriter _changes;
    private readonly LmdbBatchTransaction _transaction;
    private readonly List<StorageWriteRequest> _batch = new(MaxGroupSize);
    private readonly List<StorageWriteRequest> _group = new(MaxGroupSize);

    // Written by the writer thread only; read by any thread.
    private long _keyCount;
    private long _keysWithExpiryCount;
    private long _commitCount;
    private volatile Exception? _failure;
    private volatile bool _stopping;

    public LmdbWriter(LmdbStore store, FsyncPolicy fsyncPolicy, long keyCount, long keysWithExpiryCount, EngineMetrics? metrics = null, TimeProvider? clock = null)
    {
        _store = store;
        _metrics = metrics;
        _keyCount = keyCount;
        _keysWithExpiryCount = keysWithExpiryCount;
        _changes = new LmdbChangeWriter(store);
        _transaction = new LmdbBatchTransaction(store);
        _queue = Channel.CreateBounded<StorageWriteRequest>(new BoundedChannelOptions(QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });

        // Always: the environment syncs every commit. Batch: it syncs none (MDB_NOSYNC), and this schedule syncs about
        // once a second on its own thread. Never: nothing syncs until a flush.
        if (fsyncPolicy == FsyncPolicy.Batch)
        {
            _syncs = new LmdbSyncSchedule(store, clock ?? TimeProvider.System);
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "dynamite-lmdb-writer" };
        _thread.Start();
    }

    public long KeyCount => Volatile.Read(ref _keyCount);

    public long KeysWithExpiryCount => Volatile.Read(ref _keysWithExpiryCount);

    public long CommitCount => Volatile.Read(ref _commitCount);

    /// <summary>The batch policy's periodic syncs so far; 0 under the other policies.</summary>
    public long SyncCount => _syncs?.SyncCount ?? 0;

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
    /// Stops accepting requests, lets the thread drain the queue, commit and sync everything, and waits for it.
    /// Throws <see cref="TimeoutException"/> if that takes longer than <paramref name="timeout"/>.
    /// </summary>
    public Task StopAsync(TimeSpan timeout)
    {
        _stopping = true;
        _queue.Writer.TryComplete();
        return _stopped.Task.WaitAsync(timeout);
    }

    /// <summary>Stops the sync thread if the writer has not (it does when it stops); only after the thread has stopped
    /// (<see cref="HasStopped"/>). The environment is the store's.</summary>
    public void Dispose()
    {
        if (!HasStopped)
        {
            throw new InvalidOperationException("The writer thread is still running; stop it first.");
        }

        _syncs?.Dispose();
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
        ? new InvalidOperationException("The LMDB engine's writer stopped after an error; see the inner exception.", failure)
        : new ObjectDisposedException(nameof(LmdbStorageEngine));

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

            // Stopped and drained: stop the periodic syncs, then make everything durable while the environment is open.
            _syncs?.Dispose();
            _store.Sync();
            _stopped.TrySetResult();
        }
        catch (Exception exception)
        {
            // A bug or an unusable database. Fail everyone still waiting rather than leaving them hanging, and
            // refuse new work with this exception as the cause.
            _failure = exception;
            _stopping = true;
            _queue.Writer.TryComplete();
            _transaction.Transaction?.Dispose();
            _transaction.Transaction = null;
            _syncs?.Dispose();
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
    }

    /// <summary>Runs one operation into the current group; a throwing operation fails alone, its staged changes dropped.</summary>
    private void RunOperation(StorageWriteRequest request)
    {
        if (_transaction.Transaction is null)
        {
            try
            {
                _transaction.Transaction = _store.BeginWrite();
            }
            catch (Exception exception)
            {
                request.Fail(exception);
                return;
            }
        }

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

    /// <summary>
    /// Applies the group's changes in its write transaction and commits it; then, and only then, acknowledges its
    /// operations. If applying or committing fails (a full map), the transaction is aborted, so nothing of the group is
    /// kept, and the whole group fails with that exception. A group that changed nothing (every operation only read,
    /// or threw) aborts its transaction and writes nothing.
    /// </summary>
    private void CommitGroup()
    {
        LightningTransaction? transaction = _transaction.Transaction;
        _transaction.Transaction = null;
        try
        {
            if (_group.Count == 0)
            {
                return;
            }

            if (_transaction.Changes.Count > 0)
            {
                long started = _metrics is { Enabled: true } ? Stopwatch.GetTimestamp() : 0;
                long keyDelta;
                long expiryDelta;
                try
                {
                    (keyDelta, expiryDelta) = _changes.Apply(_transaction.Changes.Changes, transaction!);
                    _store.PutCounters(transaction!, KeyCount + keyDelta, KeysWithExpiryCount + expiryDelta);
                    _store.Commit(transaction!);
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
            // Aborts the transaction unless it committed (LightningDB aborts only a transaction still open).
            transaction?.Dispose();
            _group.Clear();
            _transaction.Changes.Clear();
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
                _store.Sync();
                return 0;
            default:
                throw new InvalidOperationException($"Unknown write request kind {request.Kind}.");
        }
    }

    /// <summary>
    /// Deletes up to <paramref name="maxKeys"/> records expired at <paramref name="nowUnixMs"/>, earliest expiry first,
    /// in one transaction. The expiry index is ordered by time, so this reads only the expired prefix of the index,
    /// never the data. Every index entry names a record with exactly that expiry (they are only ever written together).
    /// </summary>
    private int RemoveExpired(long nowUnixMs, int maxKeys)
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

        foreach (byte[] indexKey in expired)
        {
            _store.Delete(transaction, _store.Expiry, indexKey);
            _store.Delete(transaction, _store.Data, LmdbKeys.DataKeyOfExpiryKey(indexKey));
        }

        // Only keys with an expiry are swept, so both counters drop by the same amount.
        int removed = expired.Count;
        _store.PutCounters(transaction, KeyCount - removed, KeysWithExpiryCount - removed);
        _store.Commit(transaction);
        Publish(KeyCount - removed, KeysWithExpiryCount - removed);
        return removed;
    }

    /// <summary>Empties the data and the expiry index and zeroes the counters, in one transaction.</summary>
    private void Clear()
    {
        using LightningTransaction transaction = _store.BeginWrite();
        _store.Truncate(transaction, _store.Data);
        _store.Truncate(transaction, _store.Expiry);
        _store.PutCounters(transaction, 0, 0);
        _store.Commit(transaction);
        Publish(0, 0);
    }

    private void Publish(long keyCount, long keysWithExpiryCount)
    {
        Volatile.Write(ref _keyCount, keyCount);
        Volatile.Write(ref _keysWithExpiryCount, keysWithExpiryCount);
        Volatile.Write(ref _commitCount, _commitCount + 1);
        _syncs?.MarkWritten();
    }
}
