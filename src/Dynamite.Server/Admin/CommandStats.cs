using System.Globalization;
using Dynamite.Protocols.Resp;
using Dynamite.Server.Metrics;

namespace Dynamite.Server.Admin;

/// <summary>
/// INFO's per-family command statistics, read from <see cref="RespMetrics.CommandDuration"/>: one line per family
/// in the shape of redis-server's <c>cmdstat_*</c> lines, e.g. <c>command_family_read:calls=12,usec=340,usec_per_call=28.33</c>.
/// </summary>
public static class CommandStats
{
    /// <summary>The lines INFO's stats section gets, every family listed even before its first command.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> InfoLines(MetricsSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var lines = new List<KeyValuePair<string, string>>(RespMetrics.FamilyNames.Count);
        foreach (string family in RespMetrics.FamilyNames)
        {
            long calls = snapshot.Count(RespMetrics.CommandDuration, "family", family);
            double microseconds = snapshot.Total(RespMetrics.CommandDuration, "family", family) * 1e6;
            lines.Add(new(
                "command_family_" + family,
                string.Create(CultureInfo.InvariantCulture, $"calls={calls},usec={(long)microseconds},usec_per_call={(calls == 0 ? 0 : microseconds / calls):0.00}")));
        }

        return lines;
    }
}
