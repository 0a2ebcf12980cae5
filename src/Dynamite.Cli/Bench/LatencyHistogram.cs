using HdrHistogram;
using HdrHistogram.Iteration;

namespace Dynamite.Cli.Bench;

/// <summary>
/// The load generator's latencies in nanoseconds: a thin wrapper over HdrHistogram's <see cref="LongHistogram"/>
/// (Gil Tene, http://hdrhistogram.org) at <see cref="SignificantDigits"/> significant digits, so values below
/// 2,048 are counted exactly and a larger value's bucket is at most 1/1,024 of it wide (about 270 KB of counts
/// for the default range). Beside the library's counts it keeps the exact minimum, maximum and sum, which
/// HdrHistogram only knows to a bucket. A percentile is the nearest-rank value, rank ceil(percentile/100 × count):
/// HdrHistogram's own <c>GetValueAtPercentile</c> rounds the rank to the nearest, which can answer one value
/// below the one asked for. Not thread-safe: one per connection, merged with <see cref="Add"/> at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>HdrHistogram's value precision: 3 significant digits, a bucket at most 0.1% of its values wide.</summary>
    public const int SignificantDigits = 3;

    private readonly LongHistogram _counts;

    /// <summary>A histogram tracking values up to <paramref name="highestTrackableValue"/>; larger values count in the top bucket (the maximum stays exact).</summary>
    public LatencyHistogram(long highestTrackableValue = 3_600_000_000_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(highestTrackableValue, 2);
        _counts = new LongHistogram(highestTrackableValue, SignificantDigits);
        Min = long.MaxValue;
    }

    public long HighestTrackableValue => _counts.HighestTrackableValue;

    /// <summary>Number of values recorded.</summary>
    public long Count => _counts.TotalCount;

    /// <summary>Smallest value recorded (exact); <see cref="long.MaxValue"/> when empty.</summary>
    public long Min { get; private set; }

    /// <summary>Largest value recorded (exact); 0 when empty.</summary>
    public long Max { get; private set; }

    /// <summary>Sum of the values recorded (exact, for the mean).</summary>
    public double Sum { get; private set; }

    public double Mean => Count == 0 ? 0 : Sum / Count;

    public void Record(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        // HdrHistogram refuses values above its range; they count at its top, and the exact maximum says how far they went.
        _counts.RecordValue(Math.Min(value, HighestTrackableValue));
        Sum += value;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
    }

    /// <summary>Adds every value of <paramref name="other"/> to this histogram.</summary>
    public void Add(LatencyHistogram other)
    {
        // Equal ranges only: the top bucket of each holds the values above its own range.
        if (other.HighestTrackableValue != HighestTrackableValue)
        {
            throw new ArgumentException("Histograms of different ranges cannot be merged.", nameof(other));
        }

        _counts.Add(other._counts);
        Sum += other.Sum;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>Forgets every value recorded (the counts array is kept).</summary>
    public void Reset()
    {
        _counts.Reset();
        Sum = 0;
        Min = long.MaxValue;
        Max = 0;
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
        long top = _counts.LowestEquivalentValue(HighestTrackableValue);
        foreach (HistogramIterationValue bucket in _counts.RecordedValues())
        {
            if (bucket.TotalCountToThisValue >= rank)
            {
                // The top bucket also holds every value above the range: only the maximum says how far they go.
                return _counts.LowestEquivalentValue(bucket.ValueIteratedTo) == top ? Max : Math.Min(bucket.ValueIteratedTo, Max);
            }
        }

        return Max;
    }
}
