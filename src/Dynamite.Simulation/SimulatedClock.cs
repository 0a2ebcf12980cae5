namespace Dynamite.Simulation;

/// <summary>
/// Simulated time in milliseconds. Only the scheduler (<see cref="SimulatedNetwork"/>) moves it, and only
/// forward, to the time of the event it runs next: nothing in a run reads the wall clock, so a seed replays
/// the same run exactly.
/// </summary>
public sealed class SimulatedClock
{
    /// <summary>Simulated Unix time a run starts at; far from 0 so that skewed node clocks stay positive.</summary>
    public const long StartUnixMs = 1_700_000_000_000;

    public long NowMs { get; private set; } = StartUnixMs;

    /// <summary>Milliseconds since the run started.</summary>
    public long ElapsedMs => NowMs - StartUnixMs;

    internal void AdvanceTo(long timeMs)
    {
        if (timeMs < NowMs)
        {
            throw new InvalidOperationException($"Simulated time runs forward only: {timeMs} < {NowMs}.");
        }

        NowMs = timeMs;
    }
}
