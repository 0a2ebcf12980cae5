using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// The batch fsync policy's syncs, on a thread of their own so the writer never waits for the disk: the environment
/// is opened with <c>MDB_NOSYNC</c> (commits reach the operating system, not the disk), and this thread syncs the data
/// file (<c>mdb_env_sync</c>, which LMDB allows beside a running write transaction) about every
/// <see cref="IntervalMs"/> after something was committed. The interval is how much a power loss can take. An idle
/// engine costs nothing: the thread sleeps until the writer marks a commit. Waits use the injected clock, so tests
/// advance it. (The SQLite engine's <c>SqliteCheckpointer</c> has the same shape.)
/// </summary>
internal sealed class LmdbSyncSchedule : IDisposable
{
    /// <summary>Most time between a commit and the sync that makes it durable.</summary>
    public const long IntervalMs = 1000;

    private readonly LmdbStore _store;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _written = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;

    // 1 once a commit is waiting for a sync; set by the writer, cleared here.
    private int _pending;
    private long _syncCount;
    private int _disposed;

    public LmdbSyncSchedule(LmdbStore store, TimeProvider clock)
    {
        _store = store;
        _clock = clock;
        _thread = new Thread(Run) { IsBackground = true, Name = "dynamite-lmdb-sync" };
        _thread.Start();
    }

    /// <summary>Syncs this thread ran (for tests and diagnostics).</summary>
    public long SyncCount => Volatile.Read(ref _syncCount);

    /// <summary>The writer committed something the next sync must cover (writer thread; cheap when already marked).</summary>
    public void MarkWritten()
    {
        if (Volatile.Read(ref _pending) == 0 && Interlocked.Exchange(ref _pending, 1) == 0)
        {
            _written.Release();
        }
    }

    /// <summary>Stops the thread, waiting for a sync in progress; the writer's final sync comes after.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // The semaphore stays undisposed: a SemaphoreSlim whose wait handle was never asked for holds nothing to free.
        _stopping.Cancel();
        _thread.Join();
        _stopping.Dispose();
    }

    private void Run()
    {
        CancellationToken stopping = _stopping.Token;
        long lastSync = _clock.GetTimestamp();
        try
        {
            while (true)
            {
                _written.Wait(stopping);
                TimeSpan wait = TimeSpan.FromMilliseconds(IntervalMs) - _clock.GetElapsedTime(lastSync);
                if (wait > TimeSpan.Zero)
                {
                    Task.Delay(wait, _clock, stopping).GetAwaiter().GetResult();
                }

                lastSync = _clock.GetTimestamp();
                Volatile.Write(ref _pending, 0);
                SyncOnce();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private void SyncOnce()
    {
        try
        {
            _store.Sync();
            Interlocked.Increment(ref _syncCount);
        }
        catch (LightningException)
        {
            // Best effort between flushes: the next flush meets the same error and reports it. Come round again.
            MarkWritten();
        }
    }
}
