using Microsoft.Data.Sqlite;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// When the batch fsync policy syncs: a passive WAL checkpoint at most every <see cref="IntervalMs"/>, only if
/// something was committed since the last one. A timer asks the writer for one when it is idle
/// (through the request callback); a busy writer checks <see cref="IsDue"/> after each round itself.
/// The interval is how much a power loss can take. Time comes from the injected clock, so tests advance it.
/// </summary>
internal sealed class BatchCheckpointSchedule : IAsyncDisposable
{
    /// <summary>The batch policy's sync interval.</summary>
    public const long IntervalMs = 1000;

    private readonly TimeProvider _clock;
    private readonly Func<bool> _requestCheckpoint;
    private readonly ITimer _timer;
    private long _lastCheckpoint;

    // Set by the writer thread, read by the timer.
    private int _uncheckpointedWrites;

    /// <param name="clock">The writer's clock.</param>
    /// <param name="requestCheckpoint">Queues a checkpoint request for the writer; false when it cannot (queue full or closed).</param>
    public BatchCheckpointSchedule(TimeProvider clock, Func<bool> requestCheckpoint)
    {
        _clock = clock;
        _requestCheckpoint = requestCheckpoint;
        _lastCheckpoint = clock.GetTimestamp();
        var interval = TimeSpan.FromMilliseconds(IntervalMs);
        _timer = clock.CreateTimer(static state => ((BatchCheckpointSchedule)state!).OnTimer(), this, interval, interval);
    }

    /// <summary>True once an interval has passed since the last checkpoint.</summary>
    public bool IsDue => _clock.GetElapsedTime(_lastCheckpoint).TotalMilliseconds >= IntervalMs;

    /// <summary>Something was committed that the next checkpoint must sync (writer thread).</summary>
    public void MarkWritten() => Volatile.Write(ref _uncheckpointedWrites, 1);

    /// <summary>A passive checkpoint syncs the WAL, copies it into the database file and syncs that, without
    /// waiting for anyone; skipped when nothing was committed since the last one (writer thread).</summary>
    public void CheckpointIfWritten(SqliteConnection connection)
    {
        if (Volatile.Read(ref _uncheckpointedWrites) == 0)
        {
            return;
        }

        _lastCheckpoint = _clock.GetTimestamp();
        Volatile.Write(ref _uncheckpointedWrites, 0);
        try
        {
            if (!SqliteCheckpoints.Run(connection, "PASSIVE", requireComplete: false))
            {
                // A reader held part of the log back: try again on the next tick.
                MarkWritten();
            }
        }
        catch (SqliteException)
        {
            // Best effort between flushes: the next commit or flush meets the same error and reports it.
            MarkWritten();
        }
    }

    public ValueTask DisposeAsync() => _timer.DisposeAsync();

    private void OnTimer()
    {
        if (Volatile.Read(ref _uncheckpointedWrites) != 0)
        {
            // If the queue is full the writer is busy; it checks IsDue itself after each round.
            _ = _requestCheckpoint();
        }
    }
}
