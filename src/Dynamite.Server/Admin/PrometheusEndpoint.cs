using Dynamite.Server.Metrics;
using Microsoft.AspNetCore.Builder;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Dynamite.Server.Admin;

/// <summary>
/// <c>GET /metrics</c> on the admin port: the node's instruments in the Prometheus text format, written by
/// OpenTelemetry's Prometheus exporter from a meter provider that reads only this node's <see cref="NodeMetrics.Meter"/>.
/// Counters are Prometheus counters (<c>_total</c>), histograms carry their buckets, units become suffixes
/// (<c>_seconds</c>, <c>_bytes</c>). No <c>target_info</c> or scope labels: every series is the node's own.
/// </summary>
public static class PrometheusEndpoint
{
    public const string Path = "/metrics";

    /// <summary>The provider that aggregates <paramref name="metrics"/>' instruments for scrapes; dispose it with the node.</summary>
    public static MeterProvider CreateProvider(NodeMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return Sdk.CreateMeterProviderBuilder()
            .AddMeter(NodeMetrics.MeterName)
            // The name alone would also match another node's meter in the same process (tests): keep this node's only.
            .AddView(instrument => ReferenceEquals(instrument.Meter, metrics.Meter) ? null : MetricStreamConfiguration.Drop)
            .AddPrometheusExporter(options =>
            {
                options.ScopeInfoEnabled = false;
                options.TargetInfoEnabled = false;
            })
            .Build();
    }

    public static void Map(WebApplication app, MeterProvider provider) =>
        app.UseOpenTelemetryPrometheusScrapingEndpoint(provider, predicate: null, path: Path, configureBranchedPipeline: null, optionsName: null);
}
