namespace Dynamite.Simulation;

/// <summary>
/// A node's clock in the simulation: wall time is the scheduler's time plus the process's skew; monotonic time
/// (timestamps, in milliseconds) is the scheduler's; every timer the production code makes (intervals, request
/// timeouts, <c>Task.Delay</c> and <c>WaitAsync</c> with this provider) is an event of the process, so it fires
/// in simulated time, waits out a pause and dies with a crash.
/// </summary>
public sealed class SimulatedTimeProvider : TimeProvider
{
    private readonly SimulatedProcess _process;
    private readonly SimulatedNetwork _network;

    public SimulatedTimeProvider(SimulatedProcess process, SimulatedNetwork network)
    {
        _process = process;
        _network = network;
    }

    public override long TimestampFrequency => 1000;

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(_network.Clock.NowMs + _process.ClockSkewMs);

    public override long GetTimestamp() => _network.Clock.NowMs;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new SimulatedTimer(_process, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>One timer: each arming gets a generation, so a re-armed or disposed timer's old firing is ignored.</summary>
    private sealed class SimulatedTimer(SimulatedProcess process, TimerCallback callback, object? state) : ITimer
    {
        private long _generation;
        private bool _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (_disposed)
            {
                return false;
            }

            long generation = ++_generation;
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                Arm(generation, ToMs(dueTime), period);
            }

            return true;
        }

        public void Dispose()
        {
            _disposed = true;
            _generation++;
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private static long ToMs(TimeSpan time) => Math.Max(0, (long)Math.Ceiling(time.TotalMilliseconds));

        private void Arm(long generation, long delayMs, TimeSpan period) =>
            process.After(delayMs, () =>
            {
                if (_disposed || generation != _generation)
                {
                    return;
                }

                if (period != Timeout.InfiniteTimeSpan && period > TimeSpan.Zero)
                {
                    Arm(generation, ToMs(period), period);
                }

                callback(state);
            });
    }
}
