using Microsoft.Data.Sqlite;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// Copies the WAL into the database file on a thread and connection of its own, so the writer never blocks
/// on a checkpoint's page copies and syncs. SQLite's automatic checkpoint is off on the writer's connection:
/// run inside a commit every thousand pages, its fsyncs left the writer thread blocked on the disk about a
/// quarter of the time under a 3-node SET load, and writes queued behind it.
/// <para>
/// About every <see cref="IntervalMs"/>, and only after something was committed, a pass first syncs the WAL file
/// under <see cref="FsyncPolicy.Batch"/> (so a power loss takes at most about an interval, plus the length of a
/// running pass, of acknowledged writes), then runs a passive checkpoint. A passive checkpoint runs beside the
/// writer but only copies the frames committed when it started, and SQLite rewinds the WAL only when a write
/// begins after a checkpoint that copied everything. So once the log holds <see cref="RewindFrames"/> frames, the
/// writer is asked (<see cref="FinishForRewindIfWanted"/>, between two groups) for a checkpoint of its own: it
/// copies only what arrived meanwhile, and its next write starts the log again from the beginning, which keeps the
/// file bounded. It keeps asking until a checkpoint of its own copied everything.
/// </para>
/// <para>
/// Two checkpoints of one database cannot run at once (the second gets SQLITE_BUSY at once, without waiting), so
/// every checkpoint, the writer's included, runs under <see cref="RunExclusive"/>'s lock.
/// An idle engine costs nothing: the thread sleeps until the writer marks a commit. Waits use the injected
/// clock, so tests can advance it.
/// </para>
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    /// <summary>Most time between a commit and the pass that syncs it.</summary>
    public const long IntervalMs = 1000;

    /// <summary>WAL frames (pages) after which the writer is asked to finish a checkpoint so the log rewinds: 64 MiB at 4 KiB pages.</summary>
    public const long RewindFrames = 16384;

    private readonly SqliteConnection _connection;
    private readonly string _walPath;
    private readonly FsyncPolicy _fsyncPolicy;
    private readonly TimeProvider _clock;
    private readonly Lock _checkpointing = new();
    private readonly SemaphoreSlim _written = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;

    // 1 once a commit is waiting for a pass; set by the writer, cleared here.
    private int _pending;
    private volatile bool _rewindWanted;
    private int _disposed;

    /// <param name="databasePath">The database the writer commits to.</param>
    /// <param name="fsyncPolicy">Sets how the checkpoint syncs (the same synchronous level as the writer's), and
    /// whether a pass syncs the WAL file itself (batch only).</param>
    /// <param name="clock">The interval's clock.</param>
    public SqliteCheckpointer(string databasePath, FsyncPolicy fsyncPolicy, TimeProvider clock)
    {
        _clock = clock;
        _fsyncPolicy = fsyncPolicy;
        _walPath = databasePath + "-wal";
        _connection = SqliteSchema.OpenCheckpointConnection(databasePath, fsyncPolicy);
        _thread = new Thread(Run) { IsBackground = true, Name = "dynamite-sqlite-checkpoint" };
        _thread.Start();
    }

    /// <summary>The writer committed something the next pass must sync and copy (writer thread; cheap when already marked).</summary>
    public void MarkWritten()
    {
        if (Volatile.Read(ref _pending) == 0 && Interlocked.Exchange(ref _pending, 1) == 0)
        {
            _written.Release();
        }
    }

    /// <summary>Runs <paramref name="checkpoint"/> (on the caller's connection) with no other checkpoint running; waits for a running pass.</summary>
    public void RunExclusive(Action checkpoint)
    {
        lock (_checkpointing)
        {
            checkpoint();
        }
    }

    /// <summary>
    /// Writer thread, between groups: when the log has grown past <see cref="RewindFrames"/>, a passive checkpoint on
    /// the writer's connection, so its next write can rewind the log. Skipped (and asked again next time) while a
    /// pass is running: the writer never waits for one here.
    /// </summary>
    public void FinishForRewindIfWanted(SqliteConnection writerConnection)
    {
        if (!_rewindWanted || !_checkpointing.TryEnter())
        {
            return;
        }

        try
        {
            (bool complete, _) = SqliteCheckpoints.RunPassive(writerConnection);
            if (complete)
            {
                _rewindWanted = false;
            }
        }
        catch (SqliteException)
        {
            // Best effort: asked again after the next group; a real fault shows in the next commit.
        }
        finally
        {
            _checkpointing.Exit();
        }
    }

    /// <summary>Stops the thread (waiting for a running pass) and closes its connection; the writer's final flush comes after.</summary>
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
        long lastPass = _clock.GetTimestamp();
        try
        {
            while (true)
            {
                _written.Wait(stopping);
                TimeSpan wait = TimeSpan.FromMilliseconds(IntervalMs) - _clock.GetElapsedTime(lastPass);
                if (wait > TimeSpan.Zero)
                {
                    Task.Delay(wait, _clock, stopping).GetAwaiter().GetResult();
                }

                lastPass = _clock.GetTimestamp();
                Volatile.Write(ref _pending, 0);
                PassOnce();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private void PassOnce()
    {
        try
        {
            if (_fsyncPolicy == FsyncPolicy.Batch)
            {
                SyncWalFile();
            }

            bool complete;
            long logFrames;
            lock (_checkpointing)
            {
                (complete, logFrames) = SqliteCheckpoints.RunPassive(_connection);
            }

            if (!complete)
            {
                // A reader or the writer's newest frames held part of the log back: come round again.
                MarkWritten();
            }

            if (logFrames >= RewindFrames)
            {
                _rewindWanted = true;
            }
        }
        catch (Exception exception) when (exception is SqliteException or IOException or UnauthorizedAccessException)
        {
            // Best effort between flushes: the writer's next commit or flush meets the same fault and reports it.
            MarkWritten();
        }
    }

    /// <summary>
    /// fsync of the WAL file: every frame committed so far reaches the disk, whatever the checkpoint then manages to
    /// copy (a passive checkpoint that can copy nothing syncs nothing). An fsync through another descriptor of the
    /// same file flushes the file, as SQLite's own would.
    /// </summary>
    private void SyncWalFile()
    {
        try
        {
            using var wal = new FileStream(_walPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
            wal.Flush(flushToDisk: true);
        }
        catch (FileNotFoundException)
        {
            // No log (everything checkpointed and the file removed): nothing to sync.
        }
    }
}
