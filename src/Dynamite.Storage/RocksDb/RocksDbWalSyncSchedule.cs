using RocksDbSharp;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// When the batch fsync policy syncs: the WAL is synced at most every <see cref="IntervalMs"/>, and only if something
/// was written since the last sync. A timer asks the writer for a sync when it is idle (through the request
/// callback); a busy writer checks <see cref="IsDue"/> after each round itself. The interval is how much a power
/// loss can take. The timer is armed by the first write after a sync and fires once, so an engine nobody writes to
/// wakes nobody. Time comes from the injected clock, so tests advance it. (The SQLite engine syncs on the same
/// interval, through <c>SqliteCheckpointer</c>'s WAL checkpoints.)
/// </summary>
internal sealed class RocksDbWalSyncSchedule : IAsyncDisposable
{
    /// <summary>The batch policy's sync interval.</summary>
    public const long IntervalMs = 1000;

    private readonly TimeProvider _clock;
    private readonly Func<bool> _requestSync;
    private readonly ITimer _timer;
    private long _lastSync;
    private long _syncCount;

    // Set by the writer thread, read by the timer.
    private int _unsyncedWrites;

    /// <param name="clock">The writer's clock.</param>
    /// <param name="requestSync">Queues a sync request for the writer; false when it cannot (queue full or closed).</param>
    public RocksDbWalSyncSchedule(TimeProvider clock, Func<bool> requestSync)
    {
        _clock = clock;
        _requestSync = requestSync;
        _lastSync = clock.GetTimestamp();
        _timer = clock.CreateTimer(static state => ((RocksDbWalSyncSchedule)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>True once an interval has passed since the last sync.</summary>
    public bool IsDue => _clock.GetElapsedTime(_lastSync).TotalMilliseconds >= IntervalMs;

    /// <summary>WAL syncs run so far (for tests and diagnostics).</summary>
    public long SyncCount => Volatile.Read(ref _syncCount);

    /// <summary>Something was written that the next sync must cover (writer thread); the first write after a sync arms
    /// the timer for the rest of the interval.</summary>
    public void MarkWritten()
    {
        if (Volatile.Read(ref _unsyncedWrites) == 0 && Interlocked.Exchange(ref _unsyncedWrites, 1) == 0)
        {
            ArmTimer();
        }
    }

    /// <summary>Syncs the WAL unless nothing was written since the last sync (writer thread).</summary>
    public void SyncIfWritten(RocksDbStore store)
    {
        if (Volatile.Read(ref _unsyncedWrites) == 0)
        {
            return;
        }

        _lastSync = _clock.GetTimestamp();
        Volatile.Write(ref _unsyncedWrites, 0);
        try
        {
            store.SyncWal();
            Interlocked.Increment(ref _syncCount);
        }
        catch (RocksDbException)
        {
            // Best effort between flushes: the next write or flush meets the same error and reports it.
            MarkWritten();
        }
    }

    public ValueTask DisposeAsync() => _timer.DisposeAsync();

    private void ArmTimer()
    {
        double left = IntervalMs - _clock.GetElapsedTime(Volatile.Read(ref _lastSync)).TotalMilliseconds;
        try
        {
            _timer.Change(TimeSpan.FromMilliseconds(Math.Max(left, 1)), Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Stopping: the writer's drain flushes everything.
        }
    }

    private void OnTimer()
    {
        if (Volatile.Read(ref _unsyncedWrites) != 0)
        {
            // If the queue is full the writer is busy: it checks IsDue itself after each round. Either way the sync
            // clears the mark, and the next write arms the timer again.
            _ = _requestSync();
        }
    }
}
