namespace Dynamite.Core.Membership;

/// <summary>
/// Thresholds of <see cref="PeerHealthTracker"/> and the parameters of each peer's
/// <see cref="PhiAccrualFailureDetector"/>. With heartbeats every 500 ms the defaults make a silent peer
/// Suspect after about 1.7 s and Down about 60 ms later (the minimum deviation, 50 ms, keeps the normal
/// curve steep); a peer that refuses connections is Down after two failed pings, about 1 s.
/// </summary>
public sealed record PeerHealthOptions
{
    /// <summary>phi at or above this makes an Up peer Suspect. Akka's default threshold is 8; Cassandra's 8.</summary>
    public double SuspectThreshold { get; init; } = 5;

    /// <summary>phi at or above this makes a peer Down.</summary>
    public double DownThreshold { get; init; } = 8;

    /// <summary>This many consecutive failures (refused connection, failed or timed-out ping) make a peer Down at once.</summary>
    public int FailuresToDown { get; init; } = 2;

    public int MaxSampleSize { get; init; } = PhiAccrualFailureDetector.DefaultMaxSampleSize;

    public double MinStdDeviationMs { get; init; } = PhiAccrualFailureDetector.DefaultMinStdDeviationMs;

    public double AcceptablePauseMs { get; init; } = PhiAccrualFailureDetector.DefaultAcceptablePauseMs;

    /// <summary>Expected heartbeat interval before any is measured; the ping interval is the right value.</summary>
    public double FirstHeartbeatEstimateMs { get; init; } = PhiAccrualFailureDetector.DefaultFirstHeartbeatEstimateMs;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(SuspectThreshold);
        ArgumentOutOfRangeException.ThrowIfLessThan(DownThreshold, SuspectThreshold);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(FailuresToDown);
        // The detector's constructor checks the rest when the first peer is added.
        _ = new PhiAccrualFailureDetector(MaxSampleSize, MinStdDeviationMs, AcceptablePauseMs, FirstHeartbeatEstimateMs);
    }
}
