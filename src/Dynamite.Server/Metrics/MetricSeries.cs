namespace Dynamite.Server.Metrics;

/// <summary>
/// One tag combination of an instrument in a <see cref="MetricsSnapshot"/>: its <paramref name="Value"/> is a
/// counter's total, a gauge's current value or a histogram's sum; <paramref name="Count"/> is a histogram's number
/// of measurements (0 for other instruments).
/// </summary>
public sealed record MetricSeries(IReadOnlyList<KeyValuePair<string, object?>> Tags, double Value, long Count)
{
    /// <summary>The value of tag <paramref name="key"/> as text; null when the series has no such tag.</summary>
    public string? Tag(string key)
    {
        foreach (KeyValuePair<string, object?> tag in Tags)
        {
            if (string.Equals(tag.Key, key, StringComparison.Ordinal))
            {
                return Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return null;
    }
}
