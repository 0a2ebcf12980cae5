using Microsoft.Data.Sqlite;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// Copies the WAL into the database file on a thread and connection of its own, so the writer never blocks
/// on a checkpoint's page copies and syncs. SQLite's automatic checkpoint is off on the writer's connection:
/// run inside a commit every thousand pages, its fsyncs left the writer thread blocked on the disk about a
/// quarter of the time under a 3-node SET load, and writes queued behind it.
/// <para>
/// About every <see cref="IntervalMs"/>, and only after something was committed, this runs a passive
/// checkpoint. At <see cref="FsyncPolicy.Batch"/> (and Always) that syncs the WAL first: the interval is what
/// a power loss can take under the batch policy. A passive checkpoint runs beside the writer but only copies
/// the frames committed when it started, and SQLite rewinds the WAL only when a write begins after a checkpoint
/// that copied everything. So once the log holds <see cref="RewindFrames"/> frames, the writer is asked (through
/// the request callback) for a checkpoint of its own between two groups: it copies only what arrived meanwhile,
/// and its next write starts the log again from the beginning, which keeps the file bounded.
/// </para>
/// <para>
/// An idle engine costs nothing: the thread sleeps until the writer marks a commit. Waits use the injected
/// clock, so tests can advance it.
/// </para>
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    /// <summary>Most time between a commit and the checkpoint that syncs it.</summary>
    public const long IntervalMs = 1000;

    /// <summary>WAL frames (pages) after which the writer is asked to finish a checkpoint so the log rewinds: 64 MiB at 4 KiB pages.</summary>
    public const long RewindFrames = 16384;

    private readonly SqliteConnection _connection;
    private readonly TimeProvider _clock;
    private readonly Func<bool> _requestWriterCheckpoint;
    private readonly SemaphoreSlim _written = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;

    // 1 once a commit is waiting for a checkpoint; set by the writer, cleared here.
    private int _pending;
    private int _disposed;

    /// <param name="databasePath">The database the writer commits to.</param>
    /// <param name="fsyncPolicy">Sets how the checkpoint syncs (the same synchronous level as the writer's).</param>
    /// <param name="clock">The interval's clock.</param>
    /// <param name="requestWriterCheckpoint">Queues a checkpoint request for the writer thread; false when it cannot.</param>
    public SqliteCheckpointer(string databasePath, FsyncPolicy fsyncPolicy, TimeProvider clock, Func<bool> requestWriterCheckpoint)
    {
        _clock = clock;
        _requestWriterCheckpoint = requestWriterCheckpoint;
        _connection = SqliteSchema.OpenCheckpointConnection(databasePath, fsyncPolicy);
        _thread = new Thread(Run) { IsBackground = true, Name = "dynamite-sqlite-checkpoint" };
        _thread.Start();
    }

    /// <summary>Checkpoints this thread ran (for tests).</summary>
    public long CheckpointCount { get; private set; }

    /// <summary>The writer committed something the next checkpoint must copy (writer thread; cheap when already marked).</summary>
    public void MarkWritten()
    {
        if (Volatile.Read(ref _pending) == 0 && Interlocked.Exchange(ref _pending, 1) == 0)
        {
            _written.Release();
        }
    }

    /// <summary>Stops the thread (waiting for a running checkpoint) and closes its connection; the writer's final flush comes after.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // The semaphore stays undisposed: the writer still marks the commits it drains after this (harmless
        // releases), and a SemaphoreSlim whose wait handle was never asked for holds nothing to free.
        _stopping.Cancel();
        _thread.Join();
        _connection.Dispose();
        _stopping.Dispose();
    }

    private void Run()
    {
        CancellationToken stopping = _stopping.Token;
        long lastCheckpoint = _clock.GetTimestamp();
        try
        {
            while (true)
            {
                _written.Wait(stopping);
                TimeSpan wait = TimeSpan.FromMilliseconds(IntervalMs) - _clock.GetElapsedTime(lastCheckpoint);
                if (wait > TimeSpan.Zero)
                {
                    Task.Delay(wait, _clock, stopping).GetAwaiter().GetResult();
                }

                lastCheckpoint = _clock.GetTimestamp();
                Volatile.Write(ref _pending, 0);
                CheckpointOnce();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private void CheckpointOnce()
    {
        try
        {
            (bool complete, long logFrames) = SqliteCheckpoints.RunPassive(_connection);
            CheckpointCount++;
            if (!complete)
            {
                // A reader or the writer's newest frames held part of the log back: come round again.
                MarkWritten();
            }

            if (logFrames >= RewindFrames)
            {
                _ = _requestWriterCheckpoint();
            }
        }
        catch (SqliteException)
        {
            // Best effort between flushes: the writer's next commit or flush meets the same error and reports it.
            MarkWritten();
        }
    }
}
