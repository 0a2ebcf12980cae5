using System.Diagnostics;
using System.Threading.Channels;
using Dynamite.Core.KeyValue;
using Dynamite.Storage.Metrics;

namespace Dynamite.Storage;

/// <summary>
/// The one thread that changes a durable engine's database, with group commit; SQLite, RocksDB and LMDB supply only
/// their part (<see cref="Sqlite.SqliteWriter"/>, <see cref="RocksDb.RocksDbWriter"/>, <see cref="Lmdb.LmdbWriter"/>).
/// Callers enqueue requests into a bounded queue (a full queue makes callers wait: back-pressure, never a dropped
/// write). The thread takes every request available, up to <see cref="MaxGroupSize"/>, and runs the operations among
/// them as one group: each against the group's overlay view (<see cref="BatchTransaction"/>), in queue order; then the
/// surviving changes and the key counters they move are written and committed once (<see cref="WriteGroup"/>). One
/// commit, and under <see cref="FsyncPolicy.Always"/> one sync, then pays for the whole group, which is what lets a
/// durable engine keep up with many concurrent clients. Each caller's task completes only after that commit returned;
/// an operation that throws fails alone, its staged changes dropped before anything is written. Every other request
/// (the expiry sweep, a clear, a flush) first commits the group before it, so it sees
/// the database as the operations queued before it left it.
/// <para>
/// A dedicated thread rather than a pool task: commits block on disk I/O (fsync), which must not tie up the thread
/// pool that serves the network (and an LMDB write transaction belongs to the thread that began it). Counters are
/// published after each commit with volatile writes, so readers take them without a lock.
/// </para>
/// <para>
/// The writer keeps the engine's <see cref="RecordCache"/> coherent: every change to the database is bracketed by
/// <see cref="RecordCache.BeginWrite"/> and <see cref="RecordCache.EndWrite"/>, and a committed group sets the cache
/// to what it wrote.
/// </para>
/// </summary>
internal abstract class GroupCommitWriter : IDisposable
{
    /// <summary>Requests that can wait for the writer before callers are made to wait.</summary>
    public const int QueueCapacity = 4096;

    /// <summary>Most requests taken per round: bounds a group's transaction, and so its commit latency and memory.</summary>
    public const int MaxGroupSize = 512;

    private readonly string _engineName;
    private readonly string _ownerName;
    private readonly EngineMetrics? _metrics;
    private readonly Channel<StorageWriteRequest> _queue;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Writer thread only.
    private readonly List<StorageWriteRequest> _batch = new(MaxGroupSize);
    private readonly List<StorageWriteRequest> _group = new(MaxGroupSize);
    private bool _groupBegun;

    // Written by the writer thread only; read by any thread.
    private long _keyCount;
    private long _keysWithExpiryCount;
    private long _commitCount;
    private volatile Exception? _failure;
    private volatile bool _stopping;

    /// <param name="engineName">The engine as error texts name it ("SQLite"); its lower-case form names the thread.</param>
    /// <param name="ownerName">The engine type that a write after the stop reports as disposed.</param>
    /// <param name="keyCount">The stored keys when the database was opened.</param>
    /// <param name="keysWithExpiryCount">The stored keys with an expiry when the database was opened.</param>
    /// <param name="metrics">Where writes and group commits are timed; null: not measured.</param>
    /// <param name="recordCacheBytes">The capacity of the engine's <see cref="RecordCache"/>; 0: no cache.</param>
    /// <param name="wakeWriterInline">Whether an enqueue wakes the writer thread itself (the channel's synchronous
    /// continuations) rather than through a work item queued to the thread pool, which under load sits behind the
    /// network's and leaves an idle writer waiting milliseconds. Callers waiting for room are resumed through the
    /// thread pool either way: a bounded channel never runs those inline.</param>
    protected GroupCommitWriter(string engineName, string ownerName, long keyCount, long keysWithExpiryCount, EngineMetrics? metrics, long recordCacheBytes, bool wakeWriterInline)
    {
        Cache = new RecordCache(recordCacheBytes);
        _engineName = engineName;
        _ownerName = ownerName;
        _keyCount = keyCount;
        _keysWithExpiryCount = keysWithExpiryCount;
        _metrics = metrics;
        _queue = Channel.CreateBounded<StorageWriteRequest>(new BoundedChannelOptions(QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = wakeWriterInline,
        });
        _thread = new Thread(Run) { IsBackground = true, Name = $"dynamite-{engineName.ToLowerInvariant()}-writer" };
    }

    /// <summary>The committed records of recently used keys, for reads on any thread and for the group's reads.</summary>
    public RecordCache Cache { get; }

    private long _changedRecordCount;

    /// <summary>Key records written or deleted by committed groups; written by the writer thread only.</summary>
    public long ChangedRecordCount => Volatile.Read(ref _changedRecordCount);

    /// <summary>Told the record keys of each committed group (<see cref="IKeyChangeListener"/>).</summary>
    public IKeyChangeListener? ChangeListener { get; set; }

    public long KeyCount => Volatile.Read(ref _keyCount);

    public long KeysWithExpiryCount => Volatile.Read(ref _keysWithExpiryCount);

    /// <summary>Commits that wrote something (groups, sweeps, clears). Fewer than writes is group commit at work.</summary>
    public long CommitCount => Volatile.Read(ref _commitCount);

    /// <summary>True once the writer thread has ended (drained after <see cref="StopAsync"/>, or failed).</summary>
    public bool HasStopped => _stopped.Task.IsCompleted;

    /// <summary>The view the group's operations run against; the same object for the writer's lifetime.</summary>
    protected abstract BatchTransaction Transaction { get; }

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
    /// Stops accepting requests, lets the thread drain the queue, commit and make everything durable
    /// (<see cref="FinishAfterDrain"/>), and waits for it. Throws <see cref="TimeoutException"/> if that takes longer
    /// than <paramref name="timeout"/>.
    /// </summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        _stopping = true;
        await StopBesideWorkAsync().ConfigureAwait(false);
        _queue.Writer.TryComplete();
        await _stopped.Task.WaitAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Frees what the engine's part holds; only after the thread has stopped (<see cref="HasStopped"/>).</summary>
    public void Dispose()
    {
        if (!HasStopped)
        {
            throw new InvalidOperationException("The writer thread is still running; stop it first.");
        }

        DisposeResources();
    }

    /// <summary>Starts the thread; the engine's part calls it last in its constructor, once everything the thread uses exists.</summary>
    protected void Start() => _thread.Start();

    /// <summary>Queues a request nobody awaits (a timer's); false if the writer is stopping or the queue is full.</summary>
    protected bool TryEnqueueUnawaited(StorageWriteRequest request) => !_stopping && _queue.Writer.TryWrite(request);

    /// <summary>Publishes the key counters after a commit and counts the commit.</summary>
    protected void Publish(long keyCount, long keysWithExpiryCount)
    {
        Volatile.Write(ref _keyCount, keyCount);
        Volatile.Write(ref _keysWithExpiryCount, keysWithExpiryCount);
        Volatile.Write(ref _commitCount, _commitCount + 1);
        OnCommitted();
    }

    /// <summary>Called before the group's first operation runs (SQLite: BEGIN; LMDB: a write transaction). If it
    /// throws, that operation fails and the next one tries again.</summary>
    protected virtual void BeginGroup()
    {
    }

    /// <summary>
    /// Writes the group's staged changes of records and elements (<see cref="Transaction"/>, at least one) with the key counters they move, and
    /// commits them as durably as the fsync policy asks; returns how the counters moved. Throws if the commit failed,
    /// and then nothing of the group may be kept (<see cref="EndGroup"/> drops what is left).
    /// </summary>
    protected abstract (long KeyDelta, long ExpiryDelta) WriteGroup();

    /// <summary>Called after every group that began, committed or not: rolls back whatever of it was not committed.</summary>
    protected virtual void EndGroup()
    {
    }

    /// <summary>Deletes up to <paramref name="maxKeys"/> records expired at <paramref name="nowUnixMs"/>, earliest expiry
    /// first, with their keys' elements, in one commit, and publishes the counters; returns how many, adding each removed key
    /// to <paramref name="removedKeys"/> when given. No group is open.</summary>
    protected abstract int RemoveExpired(long nowUnixMs, int maxKeys, List<byte[]>? removedKeys);

    /// <summary>Deletes every record and element in one commit and publishes zero counters. No group is open.</summary>
    protected abstract void Clear();

    /// <summary>Makes everything committed so far durable on disk, whatever the fsync policy. No group is open.</summary>
    protected abstract void Flush();

    /// <summary>Runs a request of a kind only this engine queues (RocksDB: <see cref="StorageWriteKind.SyncWal"/>).</summary>
    protected virtual int RunEngineRequest(StorageWriteRequest request) =>
        throw new InvalidOperationException($"Unknown write request kind {request.Kind}.");

    /// <summary>Called after each round of requests, with no group open (SQLite: the checkpoint that rewinds a long WAL;
    /// RocksDB: a due WAL sync).</summary>
    protected virtual void AfterRound()
    {
    }

    /// <summary>Called after every commit that changed the database (the sync and checkpoint schedules learn of it).</summary>
    protected virtual void OnCommitted()
    {
    }

    /// <summary>Stops what queues requests or runs beside the writer, before the queue closes (SQLite's checkpointer,
    /// RocksDB's WAL sync timer).</summary>
    protected virtual ValueTask StopBesideWorkAsync() => ValueTask.CompletedTask;

    /// <summary>Stopped and drained: makes everything durable while the database is still the writer's.</summary>
    protected abstract void FinishAfterDrain();

    /// <summary>The thread failed (a bug or an unusable database): drops what the engine's part still holds open.</summary>
    protected virtual void OnFailed()
    {
    }

    /// <summary>Frees what the engine's part holds; the thread has stopped.</summary>
    protected abstract void DisposeResources();

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
        ? new InvalidOperationException($"The {_engineName} engine's writer stopped after an error; see the inner exception.", failure)
        : new ObjectDisposedException(_ownerName);

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

                ProcessRound();
                _batch.Clear();
            }

            FinishAfterDrain();
            _stopped.TrySetResult();
        }
        catch (Exception exception)
        {
            // A bug or an unusable database. Fail everyone still waiting rather than leaving them hanging, and
            // refuse new work with this exception as the cause.
            _failure = exception;
            _stopping = true;
            _queue.Writer.TryComplete();
            OnFailed();
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

    private void ProcessRound()
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
        AfterRound();
    }

    private int RunMaintenance(StorageWriteRequest request)
    {
        switch (request.Kind)
        {
            case StorageWriteKind.RemoveExpired:
                Cache.BeginWrite();
                try
                {
                    Cache.MarkSwept(request.NowUnixMs);
                    return RemoveExpired(request.NowUnixMs, request.MaxKeys, request.RemovedKeys);
                }
                finally
                {
                    Cache.EndWrite();
                }

            case StorageWriteKind.Clear:
                Cache.BeginWrite();
                try
                {
                    Clear();
                }
                finally
                {
                    Cache.Clear();
                    Cache.EndWrite();
                }

                return 0;
            case StorageWriteKind.Flush:
                Flush();
                return 0;
            default:
                return RunEngineRequest(request);
        }
    }

    /// <summary>Runs one operation into the current group; a throwing operation fails alone, its staged changes dropped.</summary>
    private void RunOperation(StorageWriteRequest request)
    {
        if (!_groupBegun)
        {
            try
            {
                BeginGroup();
                _groupBegun = true;
            }
            catch (Exception exception)
            {
                request.Fail(exception);
                return;
            }
        }

        BatchTransaction transaction = Transaction;
        var mark = transaction.Mark();
        transaction.NowUnixMs = request.NowUnixMs;
        try
        {
            request.Operation!.Execute(transaction);
        }
        catch (Exception exception)
        {
            transaction.TruncateTo(mark);
            request.Fail(exception);
            return;
        }

        _group.Add(request);
    }

    /// <summary>
    /// Writes and commits the group's changes; then, and only then, acknowledges its operations. If writing or
    /// committing fails, the whole group fails with that exception and nothing of it is kept. A group that changed
    /// nothing (every operation only read, or threw) writes nothing.
    /// </summary>
    private void CommitGroup()
    {
        if (!_groupBegun)
        {
            return;
        }

        _groupBegun = false;
        BatchTransaction transaction = Transaction;
        try
        {
            if (_group.Count == 0)
            {
                // Every operation of the group threw: nothing to keep.
                return;
            }

            if (transaction.HasStaged)
            {
                long started = _metrics is { Enabled: true } ? Stopwatch.GetTimestamp() : 0;
                long keyDelta;
                long expiryDelta;
                Cache.BeginWrite();
                try
                {
                    (keyDelta, expiryDelta) = WriteGroup();
                    Cache.Apply(transaction.Changes);
                }
                catch (Exception exception)
                {
                    foreach (StorageWriteRequest request in _group)
                    {
                        request.Fail(exception);
                    }

                    return;
                }
                finally
                {
                    Cache.EndWrite();
                }

                Publish(KeyCount + keyDelta, KeysWithExpiryCount + expiryDelta);
                if (started != 0)
                {
                    _metrics!.CommitDone(started);
                }

                Volatile.Write(ref _changedRecordCount, _changedRecordCount + transaction.Changes.Count);
                if (ChangeListener is { IsListening: true } listener)
                {
                    foreach (StagedChange change in transaction.Changes.Changes)
                    {
                        listener.OnChanged(change.Key);
                    }
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
            EndGroup();
            _group.Clear();
            transaction.ClearGroup();
        }
    }
}
