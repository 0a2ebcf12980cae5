namespace Dynamite.Cluster.Transport;

/// <summary>
/// Exponential back-off between failed connects: initial, 2x, 4x, ... capped at max; reset by a successful
/// connect. No jitter yet (that needs an injected random source). Not thread-safe: its owner serializes use.
/// </summary>
public sealed class ReconnectBackoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;

    /// <summary>Invariant: between <see cref="_initial"/> and <see cref="_max"/>.</summary>
    private TimeSpan _next;

    public ReconnectBackoff(TimeSpan initial, TimeSpan max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, initial);
        _initial = initial;
        _max = max;
        _next = initial;
    }

    /// <summary>The delay before the next attempt, after one more failure.</summary>
    public TimeSpan NextDelay()
    {
        TimeSpan delay = _next;
        _next = _next >= _max / 2 ? _max : _next * 2;
        return delay;
    }

    public void Reset() => _next = _initial;
}
