namespace Dynamite.Server.Metrics;

/// <summary>
/// The node's instruments at one moment (<see cref="MeterReader.Snapshot"/>), looked up by instrument name. An
/// instrument nothing was recorded into yet reads as zero.
/// </summary>
public sealed class MetricsSnapshot(IReadOnlyDictionary<string, List<MetricSeries>> series)
{
    /// <summary>The series of <paramref name="instrument"/>; empty when it has none.</summary>
    public IReadOnlyList<MetricSeries> Series(string instrument) =>
        series.TryGetValue(instrument, out List<MetricSeries>? found) ? found : [];

    /// <summary>The instrument's values summed over its series: a counter's total, the sum of a gauge's series.</summary>
    public double Total(string instrument) => Series(instrument).Sum(one => one.Value);

    /// <summary><see cref="Total(string)"/> of a counter or gauge of whole numbers.</summary>
    public long Whole(string instrument) => (long)Math.Round(Total(instrument));

    /// <summary>The values of the series whose tag <paramref name="key"/> is <paramref name="value"/>, summed.</summary>
    public double Total(string instrument, string key, string value) => Tagged(instrument, key, value).Sum(one => one.Value);

    /// <summary>A histogram's number of measurements over the series whose tag <paramref name="key"/> is <paramref name="value"/>.</summary>
    public long Count(string instrument, string key, string value) => Tagged(instrument, key, value).Sum(one => one.Count);

    /// <summary>Whole-number totals per value of tag <paramref name="key"/>, ordered by that value (ordinal).</summary>
    public IReadOnlyList<KeyValuePair<string, long>> WholeBy(string instrument, string key)
    {
        var totals = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (MetricSeries one in Series(instrument))
        {
            if (one.Tag(key) is { } tag)
            {
                totals[tag] = totals.GetValueOrDefault(tag) + one.Value;
            }
        }

        return [.. totals.Select(pair => new KeyValuePair<string, long>(pair.Key, (long)Math.Round(pair.Value)))];
    }

    private IEnumerable<MetricSeries> Tagged(string instrument, string key, string value) =>
        Series(instrument).Where(one => one.Tag(key) == value);
}
