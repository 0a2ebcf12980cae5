namespace Dynamite.Core.Membership;

/// <summary>
/// The phi accrual failure detector of Hayashibara, Défago, Yared and Katayama, "The φ Accrual Failure
/// Detector" (SRDS 2004), as Cassandra, Akka and Orleans use it. Instead of a yes/no answer it gives a
/// suspicion level phi = -log10(P(a heartbeat arrives later than now)), where the inter-arrival times are
/// modelled as a normal distribution fitted to the last <see cref="MaxSampleSize"/> samples. phi = 1 means
/// a 10% chance of being wrong in declaring the peer dead, phi = 8 about 1e-8.
/// <para>
/// As Akka does: the standard deviation never goes below <see cref="MinStdDeviationMs"/> (heartbeats that
/// arrive like clockwork would otherwise make the slightest delay look fatal); the mean is widened by
/// <see cref="AcceptablePauseMs"/> (a GC pause or a busy peer is tolerated); the first heartbeat seeds the
/// history with <see cref="FirstHeartbeatEstimateMs"/> ± a quarter of it, so phi is meaningful after a
/// single heartbeat; and the normal CDF is the logistic approximation of Bowling et al. (2009).
/// </para>
/// <para>
/// Pure: time comes in as arguments, in milliseconds of any clock that only moves forward between calls.
/// One instance per peer; not thread-safe. The sample history is a fixed ring buffer with running sums, so
/// a heartbeat neither allocates nor walks the history.
/// </para>
/// </summary>
public sealed class PhiAccrualFailureDetector
{
    public const int DefaultMaxSampleSize = 100;
    public const double DefaultMinStdDeviationMs = 50;
    public const double DefaultAcceptablePauseMs = 1000;
    public const double DefaultFirstHeartbeatEstimateMs = 500;

    // Inter-arrival samples; the valid ones are the _count entries ending just before _next (mod length).
    private readonly double[] _intervals;
    private int _next;
    private int _count;

    // Running sums of the valid samples. Samples are whole milliseconds, so while a square stays below
    // 2^53 (intervals up to about 26 hours) adding and subtracting them is exact and the sums never drift.
    private double _sum;
    private double _sumOfSquares;

    public PhiAccrualFailureDetector(
        int maxSampleSize = DefaultMaxSampleSize,
        double minStdDeviationMs = DefaultMinStdDeviationMs,
        double acceptablePauseMs = DefaultAcceptablePauseMs,
        double firstHeartbeatEstimateMs = DefaultFirstHeartbeatEstimateMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSampleSize, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minStdDeviationMs);
        ArgumentOutOfRangeException.ThrowIfNegative(acceptablePauseMs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(firstHeartbeatEstimateMs);
        _intervals = new double[maxSampleSize];
        MinStdDeviationMs = minStdDeviationMs;
        AcceptablePauseMs = acceptablePauseMs;
        FirstHeartbeatEstimateMs = firstHeartbeatEstimateMs;
    }

    public int MaxSampleSize => _intervals.Length;

    public double MinStdDeviationMs { get; }

    public double AcceptablePauseMs { get; }

    public double FirstHeartbeatEstimateMs { get; }

    /// <summary>How many inter-arrival samples the history holds (at most <see cref="MaxSampleSize"/>).</summary>
    public int SampleCount => _count;

    /// <summary>When the last heartbeat arrived; null before the first.</summary>
    public long? LastHeartbeatUnixMs { get; private set; }

    /// <summary>Mean of the samples in milliseconds (0 before the first heartbeat).</summary>
    public double MeanMs => _count == 0 ? 0 : _sum / _count;

    /// <summary>Standard deviation of the samples in milliseconds, before the minimum is applied.</summary>
    public double StdDeviationMs
    {
        get
        {
            if (_count == 0)
            {
                return 0;
            }

            double mean = MeanMs;
            // Rounding can make the difference a hair negative when every sample is equal.
            return Math.Sqrt(Math.Max(0, (_sumOfSquares / _count) - (mean * mean)));
        }
    }

    /// <summary>Records a heartbeat: a ping reply or any successful response from the peer.</summary>
    public void Heartbeat(long nowUnixMs)
    {
        if (LastHeartbeatUnixMs is not long last)
        {
            // Bootstrap as Akka does: two samples at estimate ± estimate/4 give a mean and a deviation
            // before the second heartbeat, so a peer that dies right after its first one is still detected.
            double deviation = FirstHeartbeatEstimateMs / 4;
            AddSample(FirstHeartbeatEstimateMs - deviation);
            AddSample(FirstHeartbeatEstimateMs + deviation);
        }
        else if (nowUnixMs >= last)
        {
            AddSample(nowUnixMs - last);
        }

        // A clock that went backwards gives no sample, but the next interval starts from here.
        LastHeartbeatUnixMs = nowUnixMs;
    }

    /// <summary>
    /// The suspicion level at <paramref name="nowUnixMs"/>: 0 right after a heartbeat, rising the longer the
    /// peer stays silent. Before any heartbeat it is 0: there is nothing to accrue from yet (the bootstrap
    /// period), and a peer that never answers is caught by its failed pings instead.
    /// </summary>
    public double Phi(long nowUnixMs)
    {
        if (LastHeartbeatUnixMs is not long last)
        {
            return 0;
        }

        double elapsed = Math.Max(0, nowUnixMs - last);
        return Phi(elapsed, MeanMs + AcceptablePauseMs, Math.Max(StdDeviationMs, MinStdDeviationMs));
    }

    /// <summary>-log10 of the probability that a normal(mean, sd) inter-arrival time exceeds <paramref name="elapsedMs"/>.</summary>
    public static double Phi(double elapsedMs, double meanMs, double stdDeviationMs)
    {
        double y = (elapsedMs - meanMs) / stdDeviationMs;
        // Logistic approximation of the normal CDF (Bowling et al. 2009): 1 - F(y) ≈ e / (1 + e).
        double exponent = y * (1.5976 + (0.070566 * y * y));
        double e = Math.Exp(-exponent);
        // Past the mean, -log10(e / (1 + e)) is written as exponent / ln 10 + log10(1 + e): the same value,
        // but finite however long the silence (e underflows to 0 after a few minutes), so it stays printable.
        // Max: well before the mean the second form rounds to -log10(1) = -0, which would print as "-0.00".
        return elapsedMs > meanMs ? (exponent / Math.Log(10)) + Math.Log10(1.0 + e) : Math.Max(0.0, -Math.Log10(1.0 - (1.0 / (1.0 + e))));
    }

    private void AddSample(double intervalMs)
    {
        if (_count == _intervals.Length)
        {
            double oldest = _intervals[_next];
            _sum -= oldest;
            _sumOfSquares -= oldest * oldest;
        }
        else
        {
            _count++;
        }

        _intervals[_next] = intervalMs;
        _sum += intervalMs;
        _sumOfSquares += intervalMs * intervalMs;
        _next = (_next + 1) % _intervals.Length;
    }
}
