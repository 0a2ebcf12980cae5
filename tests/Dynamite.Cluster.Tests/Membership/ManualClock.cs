namespace Dynamite.Cluster.Tests.Membership;

/// <summary>
/// A clock the test moves by hand (Microsoft.Extensions.TimeProvider.Testing is not on the package mirror).
/// Only the time of day is fake; timers are the system's, which the tests keep out of the way.
/// </summary>
internal sealed class ManualClock(long startUnixMs) : TimeProvider
{
    private long _nowUnixMs = startUnixMs;

    public long NowUnixMs => Interlocked.Read(ref _nowUnixMs);

    public void Advance(long milliseconds) => Interlocked.Add(ref _nowUnixMs, milliseconds);

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(NowUnixMs);
}
