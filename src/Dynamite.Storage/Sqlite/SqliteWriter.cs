using System.Diagnostics;
using System.Threading.Channels;
using Dynamite.Storage.Metrics;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// The one thread that changes the database, with the one read-write connection. Callers enqueue requests into a
/// bounded queue (a full queue makes callers wait: back-pressure, never a dropped write). The thread takes every
/// request available, up to <see cref="MaxGroupSize"/>, and runs the operations among them as one group: each
/// against the group's overlay view, in queue order, then one transaction applies the surviving changes and
/// commits once. One commit, and under <see cref="FsyncPolicy.Always"/> one fsync, then pays for the whole
/// group, which is what lets a durable engine keep up with many concurrent clients.
/// <para>
/// A dedicated thread rather than a pool task: commits block on disk I/O (fsync), which must not tie up the
/// thread pool that serves the network. Counters are published after each commit with volatile writes, so
/// readers take them without a lock.
/// </para>
/// </summary>
internal sealed class SqliteWriter : IDisposable
{
    /// <summary>Requests that can wait for the writer before callers are made to wait.</summary>
    public const int QueueCapacity = 4096;

    /// <summary>Most requests taken per round: bounds a group's transaction, and so its commit latency and memory.</summary>
    public const int MaxGroupSize = 512;

    private readonly SqliteConnection _connection;
    private readonly FsyncPolicy _fsyncPolicy;
    private readonly EngineMetrics? _metrics;
    private readonly Channel<StorageWriteRequest> _queue;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SqliteCheckpointer _checkpointer;

    // Writer thread only.
    private readonly List<SqliteStatement> _statements = [];
    private readonly SqliteStatement _begin;
    private readonly SqliteStatement _commit;
    private readonly SqliteStatement _rollback;
    private readonly SqliteChangeWriter _changes;
    private readonly SqliteStatement _deleteExpired;
    private readonly SqliteStatement _deleteAll;
    private readonly SqliteBatchTransaction _transaction;
    private readonly List<StorageWriteRequest> _batch = new(MaxGroupSize);
    private readonly List<StorageWriteRequest> _group = new(MaxGroupSize);
    private bool _inTransaction;

    // Written by the writer thread only; read by any thread.
    private long _keyCount;
    private long _keysWithExpiryCount;
    private long _commitCount;
    private volatile Exception? _failure;
    private volatile bool _stopping;

    public SqliteWriter(SqliteConnection connection, string databasePath, FsyncPolicy fsyncPolicy, long keyCount, long keysWithExpiryCount, EngineMetrics? metrics = null, TimeProvider? clock = null)
    {
        _connection = connection;
        _fsyncPolicy = fsyncPolicy;
        _metrics = metrics;
        _keyCount = keyCount;
        _keysWithExpiryCount = keysWithExpiryCount;
        try
        {
            _begin = Prepare(SqliteSchema.Begin);
            _commit = Prepare(SqliteSchema.Commit);
            _rollback = Prepare(SqliteSchema.Rollback);
            _changes = new SqliteChangeWriter(Prepare(SqliteSchema.SelectExpiry), Prepare(SqliteSchema.Upsert), Prepare(SqliteSchema.DeleteReturningExpiry));
            _deleteExpired = Prepare(SqliteSchema.DeleteExpired);
            _deleteAll = Prepare(SqliteSchema.DeleteAll);
            _transaction = new SqliteBatchTransaction(Prepare(SqliteSchema.SelectRecord));
        }
        catch
        {
            DisposeStatements();
            throw;
        }

        _queue = Channel.CreateBounded<StorageWriteRequest>(new BoundedChannelOptions(QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            // The writer thread blocks on the channel's wait. With asynchronous continuations its wake-up was a work
            // item queued to the thread pool behind the network's, and under load a write waited milliseconds for an
            // idle writer. Inline, the enqueuing thread only sets the writer's event. (Callers waiting for room are
            // still resumed through the thread pool: a bounded channel never runs those inline.)
            AllowSynchronousContinuations = true,
        });
        try
        {
            _checkpointer = new SqliteCheckpointer(databasePath, fsyncPolicy, clock ?? TimeProvider.System);
        }
        catch
        {
            DisposeStatements();
            throw;
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "dynamite-sqlite-writer" };
        _thread.Start();
    }

    public long KeyCount => Volatile.Read(ref _keyCount);

    public long KeysWithExpiryCount => Volatile.Read(ref _keysWithExpiryCount);

    public long CommitCount => Volatile.Read(ref _commitCount);

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
    /// Stops accepting requests, lets the thread drain the queue, commit and checkpoint, and waits for it.
    /// Throws <see cref="TimeoutException"/> if that takes longer than <paramref name="timeout"/>.
    /// </summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        _stopping = true;
        // First, so the writer's final checkpoint has the log to itself.
        _checkpointer.Dispose();

        _queue.Writer.TryComplete();
        await _stopped.Task.WaitAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Closes the statements and the connection; only after the thread has stopped (<see cref="HasStopped"/>).</summary>
    public void Dispose()
    {
        if (!HasStopped)
        {
            throw new InvalidOperationException("The writer thread is still running; stop it first.");
        }

        DisposeStatements();
        _connection.Dispose();
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
        ? new InvalidOperationException("The SQLite engine's writer stopped after an error; see the inner exception.", failure)
        : new ObjectDisposedException(nameof(SqliteStorageEngine));

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

            // Stopped and drained: make everything durable while the connection is still ours.
            _checkpointer.RunExclusive(() => SqliteCheckpoints.FlushToDisk(_connection, _fsyncPolicy));
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
        _checkpointer.FinishForRewindIfWanted(_connection);
    }

    /// <summary>Runs one operation into the current group; a throwing operation fails alone, its staged changes dropped.</summary>
    private void RunOperation(StorageWriteRequest request)
    {
        if (!_inTransaction)
        {
            try
            {
                _begin.Execute();
                _inTransaction = true;
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

    /// <summary>Applies the group's changes and commits; then, and only then, acknowledges its operations.
    /// If applying or committing fails, the whole group fails with that exception and nothing of it is kept.</summary>
    private void CommitGroup()
    {
        if (!_inTransaction)
        {
            return;
        }

        try
        {
            if (_group.Count == 0)
            {
                // Every operation of the group threw: nothing to keep.
                RollbackQuietly();
                return;
            }

            long keyDelta;
            long expiryDelta;
            long started = _metrics is { Enabled: true } ? Stopwatch.GetTimestamp() : 0;
            try
            {
                (keyDelta, expiryDelta) = _changes.Apply(_transaction);
                _commit.Execute();
                _inTransaction = false;
            }
            catch (Exception exception)
            {
                RollbackQuietly();
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
            _group.Clear();
            _transaction.ClearGroup();
        }
    }

    /// <summary>
    /// Writes the last staged change of each key (earlier ones are overwritten within the group anyway) and
    /// returns how the key counters change. Each write first learns the key's current state inside the same
    /// transaction, so the counters stay exact whatever the operations did.
    /// </summary>
    private int RunMaintenance(StorageWriteRequest request)
    {
        switch (request.Kind)
        {
            case StorageWriteKind.RemoveExpired:
                // One autocommit statement: a failure leaves nothing half-deleted.
                _deleteExpired.BindInt64(1, request.NowUnixMs);
                _deleteExpired.BindInt64(2, request.MaxKeys);
                _deleteExpired.Execute();
                int removed = _deleteExpired.Changes;
                if (removed > 0)
                {
                    // Only keys with an expiry are swept, so both counters drop by the same amount.
                    Publish(KeyCount - removed, KeysWithExpiryCount - removed);
                }

                return removed;
            case StorageWriteKind.Clear:
                _deleteAll.Execute();
                Publish(0, 0);
                return 0;
            case StorageWriteKind.Flush:
                _checkpointer.RunExclusive(() => SqliteCheckpoints.FlushToDisk(_connection, _fsyncPolicy));
                return 0;
            default:
                throw new InvalidOperationException($"Unknown write request kind {request.Kind}.");
        }
    }

    private void Publish(long keyCount, long keysWithExpiryCount)
    {
        Volatile.Write(ref _keyCount, keyCount);
        Volatile.Write(ref _keysWithExpiryCount, keysWithExpiryCount);
        Volatile.Write(ref _commitCount, _commitCount + 1);
        _checkpointer.MarkWritten();
    }

    private void RollbackQuietly()
    {
        _inTransaction = false;

        // After some errors (I/O, disk full) SQLite has already rolled the transaction back itself.
        if (raw.sqlite3_get_autocommit(_connection.Handle) != 0)
        {
            return;
        }

        try
        {
            _rollback.Execute();
        }
        catch (SqliteException)
        {
            // The connection is unusable; the next BEGIN reports it to the operations that need it.
        }
    }

    private SqliteStatement Prepare(string sql)
    {
        var statement = new SqliteStatement(_connection, sql);
        _statements.Add(statement);
        return statement;
    }

    private void DisposeStatements()
    {
        foreach (SqliteStatement statement in _statements)
        {
            statement.Dispose();
        }

        _statements.Clear();
    }
}
