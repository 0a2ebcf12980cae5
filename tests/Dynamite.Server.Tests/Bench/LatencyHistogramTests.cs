using Dynamite.Cli.Bench;
using Xunit;

namespace Dynamite.Server.Tests.Bench;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Empty_HasNoCountAndZeroPercentiles()
    {
        var histogram = new LatencyHistogram();
        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.Max);
        Assert.Equal(0, histogram.ValueAtPercentile(50));
        Assert.Equal(0, histogram.ValueAtPercentile(100));
    }

    [Fact]
    public void SmallValues_AreExact()
    {
        var histogram = new LatencyHistogram();
        for (long v = 1; v <= 100; v++)
        {
            histogram.Record(v);
        }

        Assert.Equal(100, histogram.Count);
        Assert.Equal(1, histogram.Min);
        Assert.Equal(100, histogram.Max);
        Assert.Equal(50, histogram.ValueAtPercentile(50));
        Assert.Equal(90, histogram.ValueAtPercentile(90));
        Assert.Equal(99, histogram.ValueAtPercentile(99));
        Assert.Equal(100, histogram.ValueAtPercentile(99.9));
        Assert.Equal(100, histogram.ValueAtPercentile(100));
        Assert.Equal(1, histogram.ValueAtPercentile(0));
        Assert.Equal(50.5, histogram.Mean, 9);
    }

    [Fact]
    public void Percentiles_OfOneToTenThousand_AreTheBucketTopsOfTheTrueValues()
    {
        var histogram = new LatencyHistogram();
        for (long v = 1; v <= 10_000; v++)
        {
            histogram.Record(v);
        }

        // HdrHistogram at 3 significant digits: exact below 2,048; [4,096, 8,191] in buckets 4 wide, [8,192, 16,383] 8 wide.
        // Rank 5000 is 5000: bucket [5000, 5003].
        Assert.Equal(5003, histogram.ValueAtPercentile(50));
        // Rank 9000 is 9000: [9000, 9007].
        Assert.Equal(9007, histogram.ValueAtPercentile(90));
        // Rank 9900 is 9900: [9896, 9903].
        Assert.Equal(9903, histogram.ValueAtPercentile(99));
        // Rank 9990 is 9990: [9984, 9991].
        Assert.Equal(9991, histogram.ValueAtPercentile(99.9));
        // Rank 10000: its bucket [10000, 10007] is capped at the exact maximum.
        Assert.Equal(10_000, histogram.ValueAtPercentile(100));
        Assert.Equal(10_000, histogram.Max);
        Assert.Equal(1, histogram.Min);
        Assert.Equal(10_000, histogram.Count);
    }

    [Fact]
    public void Rank_IsNotPushedUpByFloatingPointNoise()
    {
        var histogram = new LatencyHistogram();
        for (long v = 1; v <= 1000; v++)
        {
            histogram.Record(v);
        }

        // Rank 999 exactly (99.9% of 1000); rank 1000 would give the max, 1000. Values below 2,048 are exact.
        Assert.Equal(999, histogram.ValueAtPercentile(99.9));
        Assert.Equal(999, histogram.ValueAtPercentile(99.85));
        Assert.Equal(1000, histogram.ValueAtPercentile(99.95));
    }

    [Fact]
    public void Rank_IsTheNearestRank_NotHdrHistogramsRoundedRank()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1);
        histogram.Record(2);
        histogram.Record(3);

        // 40% of 3 is 1.2: the nearest rank is 2. HdrHistogram's GetValueAtPercentile rounds 1.2 to rank 1 and answers 1.
        Assert.Equal(2, histogram.ValueAtPercentile(40));
        Assert.Equal(1, histogram.ValueAtPercentile(33.3));
    }

    [Theory]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(1_000)]
    [InlineData(2_047)]
    [InlineData(23_456)]
    [InlineData(1_000_000)]
    [InlineData(139_000_000)]
    [InlineData(987_654_321_012)]
    public void Percentile_OfOneValue_IsExactBelow2048_AndAtMostOneThousandthAboveIt(long value)
    {
        var histogram = new LatencyHistogram();
        histogram.Record(value);
        histogram.Record(2 * value);

        // Rank 1 is the value; its bucket's top is not capped by the maximum (2 × value).
        long measured = histogram.ValueAtPercentile(50);
        Assert.InRange(measured, value, value < 2_048 ? value : value + (value / 1_000));
    }

    [Fact]
    public void Percentile_IsNeverBelowTheTrueValue_NorMoreThanATenthOfAPercentAbove()
    {
        var random = new Random(7);
        var values = new long[20_000];
        var histogram = new LatencyHistogram();
        for (int i = 0; i < values.Length; i++)
        {
            // Log-uniform from 1 µs to 1 s, in nanoseconds.
            values[i] = (long)Math.Pow(10, 3 + (random.NextDouble() * 6));
            histogram.Record(values[i]);
        }

        Array.Sort(values);
        foreach (double percentile in new[] { 1.0, 50, 90, 99, 99.9, 99.99 })
        {
            long exact = values[(int)Math.Ceiling((percentile * values.Length / 100.0) - 1e-7) - 1];
            long measured = histogram.ValueAtPercentile(percentile);
            Assert.InRange(measured, exact, exact + (exact / 1_000));
        }

        Assert.Equal(values[^1], histogram.Max);
        Assert.Equal(values[0], histogram.Min);
    }

    [Fact]
    public void Merge_EqualsRecordingEverythingInOne()
    {
        var a = new LatencyHistogram();
        var b = new LatencyHistogram();
        var all = new LatencyHistogram();
        var random = new Random(11);
        for (int i = 0; i < 5_000; i++)
        {
            long value = random.NextInt64(1, 50_000_000);
            (i % 3 == 0 ? a : b).Record(value);
            all.Record(value);
        }

        b.Record(123_456_789);
        all.Record(123_456_789);
        a.Add(b);
        Assert.Equal(all.Count, a.Count);
        Assert.Equal(all.Min, a.Min);
        Assert.Equal(123_456_789, a.Max);
        Assert.Equal(all.Sum, a.Sum);
        foreach (double percentile in new[] { 0.0, 10, 50, 75, 90, 99, 99.9, 100 })
        {
            Assert.Equal(all.ValueAtPercentile(percentile), a.ValueAtPercentile(percentile));
        }
    }

    [Fact]
    public void ValuesAboveTheRange_CountInTheLastBucket_WithAnExactMax()
    {
        var histogram = new LatencyHistogram(highestTrackableValue: 1_000_000);
        histogram.Record(10);
        histogram.Record(5_000_000_000);
        Assert.Equal(2, histogram.Count);
        Assert.Equal(5_000_000_000, histogram.Max);
        Assert.Equal(10, histogram.ValueAtPercentile(50));
        Assert.Equal(5_000_000_000, histogram.ValueAtPercentile(100));
    }

    [Fact]
    public void Merge_OfDifferentRanges_IsRefused()
    {
        var histogram = new LatencyHistogram(1_000_000);
        Assert.Throws<ArgumentException>(() => histogram.Add(new LatencyHistogram(1_000_000_000)));
    }

    [Fact]
    public void Reset_ForgetsEveryValue()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(5);
        histogram.Record(5_000_000);
        histogram.Reset();
        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.Max);
        Assert.Equal(long.MaxValue, histogram.Min);
        Assert.Equal(0, histogram.Sum);
        Assert.Equal(0, histogram.ValueAtPercentile(99));
        histogram.Record(7);
        Assert.Equal(7, histogram.ValueAtPercentile(100));
    }

    [Fact]
    public void Negative_IsRefused() => Assert.Throws<ArgumentOutOfRangeException>(() => new LatencyHistogram().Record(-1));
}
