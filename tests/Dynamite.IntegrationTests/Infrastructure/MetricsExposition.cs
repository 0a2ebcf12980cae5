using System.Globalization;
using Xunit;

namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>A node's Prometheus text exposition (<c>GET /metrics</c> on its admin port), fetched and read sample by sample.</summary>
public static class MetricsExposition
{
    public static async Task<string> GetAsync(int port, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetStringAsync($"http://127.0.0.1:{port}{path}");
    }

    /// <summary>The one sample of <paramref name="name"/> with (at least) the given labels.</summary>
    public static double Value(List<Sample> samples, string name, params (string Key, string Value)[] labels)
    {
        Sample[] found = [.. samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value))];
        Assert.True(found.Length == 1, $"{found.Length} samples of {name} with {string.Join(",", labels)}");
        return found[0].Value;
    }

    /// <summary>The samples of a text exposition (names, labels, values; comments skipped).</summary>
    public static List<Sample> Parse(string exposition)
    {
        var samples = new List<Sample>();
        foreach (string line in exposition.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            int brace = line.IndexOf('{', StringComparison.Ordinal);
            int space = line.LastIndexOf(' ');
            string name = brace >= 0 ? line[..brace] : line[..space];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (brace >= 0)
            {
                string inner = line[(brace + 1)..line.LastIndexOf('}')];
                foreach (string pair in inner.Split("\",", StringSplitOptions.RemoveEmptyEntries))
                {
                    int equals = pair.IndexOf('=', StringComparison.Ordinal);
                    labels[pair[..equals]] = pair[(equals + 1)..].Trim('"');
                }
            }

            samples.Add(new Sample(name, labels, double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture)));
        }

        return samples;
    }

    public sealed record Sample(string Name, Dictionary<string, string> Labels, double Value);
}
