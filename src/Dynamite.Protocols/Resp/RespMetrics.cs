using System.Diagnostics;
using System.Diagnostics.Metrics;
using Dynamite.Protocols.Resp.Commands;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// The RESP front end's instruments on the node's meter (the composition root makes one per node and passes it to
/// <see cref="RespServer"/>). A command costs two timestamps and one <see cref="Histogram{T}.Record(T, in TagList)"/>
/// with a tag made once per family, and nothing at all while no listener is enabled; no allocation either way.
/// <para>
/// Request counts are the histogram's count (<c>dynamite_resp_command_duration_seconds_count</c> in Prometheus), as
/// OpenTelemetry's semantic conventions do for <c>http.server.request.duration</c>: a separate counter would hold
/// the same number a second time and cost every command another measurement.
/// </para>
/// </summary>
public sealed class RespMetrics
{
    /// <summary>Seconds from dispatch to a command's reply being written; tag <c>family</c> (<see cref="CommandFamily"/>, lower case).</summary>
    public const string CommandDuration = "dynamite.resp.command.duration";

    /// <summary>Clients connected now (a gauge).</summary>
    public const string ClientsConnected = "dynamite.resp.clients.connected";

    /// <summary>The <c>family</c> tag's values, indexed by <see cref="CommandFamily"/>.</summary>
    public static readonly IReadOnlyList<string> FamilyNames = ["read", "write", "keyspace", "connection", "server"];

    /// <summary>
    /// Bucket bounds in seconds: a single node answers in microseconds, a cluster quorum in a fraction of a
    /// millisecond on loopback to milliseconds across racks, a failed quorum after the request timeout (seconds).
    /// </summary>
    public static readonly IReadOnlyList<double> DurationBuckets =
        [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;
    private readonly TagList[] _familyTags;

    public RespMetrics(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _meter = meter;
        _duration = meter.CreateHistogram(
            CommandDuration, "s", "Time from dispatching a RESP command to its reply being written, per command family",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _familyTags = [.. FamilyNames.Select(name => new TagList([new("family", name)]))];
    }

    /// <summary>Whether anything listens; the dispatcher takes no timestamps when nothing does.</summary>
    public bool Enabled => _duration.Enabled;

    /// <summary>A command of <paramref name="family"/> dispatched at <paramref name="startTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>) has replied.</summary>
    public void CommandDone(CommandFamily family, long startTimestamp) =>
        _duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, in _familyTags[(int)family]);

    /// <summary>Reports <paramref name="clients"/>' connected count as <see cref="ClientsConnected"/>.</summary>
    internal void ObserveClients(ClientRegistry clients) =>
        _meter.CreateObservableUpDownCounter(ClientsConnected, () => clients.Count, "{client}", "RESP clients connected now");
}
