namespace Dynamite.Cli.Bench;

/// <summary>
/// A log-linear histogram of non-negative integer values (the load generator records nanoseconds), after
/// HdrHistogram's idea: values below 128 get a bucket each; above, every power of two is split into 64 equal
/// sub-buckets, so a bucket's width is at most 1/64 (1.6%) of the values it holds. Recording is an array
/// increment; histograms of the same <see cref="HighestTrackableValue"/> merge by adding counts. The count,
/// minimum and maximum are exact; a percentile is the highest value of the bucket holding that rank (never
/// above the recorded maximum), so it is at most 1.6% above the true value and never below it. Not thread-safe:
/// one per connection, merged at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>Sub-buckets per power of two in the upper half of a bucket range: 64, i.e. 1/64 relative width.</summary>
    public const int SubBuckets = 64;

    /// <summary>Values below this (128) are recorded exactly, one bucket per value.</summary>
    public const int ExactLimit = 2 * SubBuckets;

    private const int SubBucketBits = 6;
    private readonly long[] _counts;

    /// <summary>A histogram tracking values up to <paramref name="highestTrackableValue"/>; larger values count in the last bucket (the maximum stays exact).</summary>
    public LatencyHistogram(long highestTrackableValue = 3_600_000_000_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(highestTrackableValue, ExactLimit);
        HighestTrackableValue = highestTrackableValue;
        _counts = new long[BucketIndex(highestTrackableValue) + 1];
        Min = long.MaxValue;
    }

    public long HighestTrackableValue { get; }

    /// <summary>Number of values recorded.</summary>
    public long Count { get; private set; }

    /// <summary>Smallest value recorded (exact); <see cref="long.MaxValue"/> when empty.</summary>
    public long Min { get; private set; }

    /// <summary>Largest value recorded (exact); 0 when empty.</summary>
    public long Max { get; private set; }

    /// <summary>Sum of the values recorded (exact, for the mean).</summary>
    public double Sum { get; private set; }

    public double Mean => Count == 0 ? 0 : Sum / Count;

    /// <summary>Number of buckets (for tests).</summary>
    public int BucketCount => _counts.Length;

    public void Record(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        int index = value >= HighestTrackableValue ? _counts.Length - 1 : BucketIndex(value);
        _counts[index]++;
        Count++;
        Sum += value;
        if (value < Min)
        {
            Min = value;
        }

        if (value > Max)
        {
            Max = value;
        }
    }

    /// <summary>Adds every value of <paramref name="other"/> to this histogram.</summary>
    public void Add(LatencyHistogram other)
    {
        if (other._counts.Length != _counts.Length)
        {
            throw new ArgumentException("Histograms of different ranges cannot be merged.", nameof(other));
        }

        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Sum += other.Sum;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>
    /// The value at <paramref name="percentile"/> (0–100): the highest value of the bucket holding the value of
    /// rank ceil(percentile/100 × count) (at least rank 1), capped at the exact maximum. 0 when empty.
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(percentile);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100.0);
        if (Count == 0)
        {
            return 0;
        }

        // The epsilon keeps floating-point noise (99.9 / 100 * 1000 = 999.0000000000001) from moving up a rank.
        long rank = Math.Max(1, (long)Math.Ceiling((percentile * Count / 100.0) - 1e-7));
        rank = Math.Min(rank, Count);
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                // The last bucket also holds every value above the range: only the maximum says how far they go.
                return i == _counts.Length - 1 ? Max : Math.Min(HighestValueOfBucket(i), Max);
            }
        }

        return Max;
    }

    /// <summary>The bucket a value falls in.</summary>
    public static int BucketIndex(long value)
    {
        if (value < ExactLimit)
        {
            return (int)value;
        }

        // The top 7 significant bits (64..127) pick the sub-bucket; the shift picks the power of two.
        int shift = (63 - (int)long.LeadingZeroCount(value)) - SubBucketBits;
        int sub = (int)(value >> shift);
        return ExactLimit + ((shift - 1) * SubBuckets) + (sub - SubBuckets);
    }

    /// <summary>The smallest value that falls in bucket <paramref name="index"/>.</summary>
    public static long LowestValueOfBucket(int index)
    {
        if (index < ExactLimit)
        {
            return index;
        }

        int j = index - ExactLimit;
        int shift = (j / SubBuckets) + 1;
        long sub = (j % SubBuckets) + SubBuckets;
        return sub << shift;
    }

    /// <summary>The largest value that falls in bucket <paramref name="index"/>.</summary>
    public static long HighestValueOfBucket(int index)
    {
        if (index < ExactLimit)
        {
            return index;
        }

        int shift = ((index - ExactLimit) / SubBuckets) + 1;
        return LowestValueOfBucket(index) + (1L << shift) - 1;
    }
}
