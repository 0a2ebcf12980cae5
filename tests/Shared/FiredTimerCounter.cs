namespace Dynamite.Tests.Shared;

/// <summary>
/// A clock that is <paramref name="inner"/> in every respect, and counts the callbacks of the timers made from it as
/// they fire: what a test asserts to show that a component idles without waking anyone.
/// </summary>
internal sealed class FiredTimerCounter(TimeProvider inner) : TimeProvider
{
    private long _fired;

    /// <summary>Timer callbacks run so far.</summary>
    public long Fired => Interlocked.Read(ref _fired);

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

    public override long GetTimestamp() => inner.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        inner.CreateTimer(
            s =>
            {
                Interlocked.Increment(ref _fired);
                callback(s);
            },
            state,
            dueTime,
            period);
}
