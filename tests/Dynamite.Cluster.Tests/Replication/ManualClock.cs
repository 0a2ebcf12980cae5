namespace Dynamite.Cluster.Tests.Replication;

/// <summary>A clock the test moves by hand, so expiry and timestamps are exact. Thread-safe.</summary>
internal sealed class ManualClock(long startUnixMs) : TimeProvider
{
    private long _nowUnixMs = startUnixMs;

    public long NowUnixMs => Interlocked.Read(ref _nowUnixMs);

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(NowUnixMs);

    public void Advance(long milliseconds) => Interlocked.Add(ref _nowUnixMs, milliseconds);
}
