using System.Diagnostics;
using System.Diagnostics.Metrics;
using Dynamite.Protocols.Resp;
using Dynamite.Protocols.Resp.Commands;
using Dynamite.Server.Admin;
using Dynamite.Server.Metrics;
using OpenTelemetry.Metrics;
using Xunit;

namespace Dynamite.Server.Tests.Metrics;

public sealed class MeterReaderTests : IDisposable
{
    private static readonly KeyValuePair<string, object?> Read = new("family", "read");
    private static readonly KeyValuePair<string, object?> Write = new("family", "write");

    private readonly Meter _meter = new(NodeMetrics.MeterName);
    private readonly MeterReader _reader;

    public MeterReaderTests() => _reader = new MeterReader(_meter);

    public void Dispose()
    {
        _reader.Dispose();
        _meter.Dispose();
    }

    [Fact]
    public void Snapshot_CounterWithTags_SumsPerTagAndInTotal()
    {
        Counter<long> counter = _meter.CreateCounter<long>("c");

        counter.Add(3, Read);
        counter.Add(4, Read);
        counter.Add(5, Write);

        MetricsSnapshot snapshot = _reader.Snapshot();
        Assert.Equal(12, snapshot.Whole("c"));
        Assert.Equal(7, snapshot.Total("c", "family", "read"));
        Assert.Equal([new("read", 7), new("write", 5)], snapshot.WholeBy("c", "family"));
        Assert.Equal(0, snapshot.Whole("never-created"));
    }

    [Fact]
    public void Snapshot_Histogram_KeepsCountAndSum()
    {
        Histogram<double> histogram = _meter.CreateHistogram<double>("h");

        histogram.Record(0.25, Read);
        histogram.Record(0.5, Read);
        histogram.Record(2, Write);

        MetricsSnapshot snapshot = _reader.Snapshot();
        Assert.Equal(2, snapshot.Count("h", "family", "read"));
        Assert.Equal(0.75, snapshot.Total("h", "family", "read"), 9);
        Assert.Equal(1, snapshot.Count("h", "family", "write"));
    }

    [Fact]
    public void Snapshot_InstrumentLeftOutByTheFilter_HasNoSeries()
    {
        using var meter = new Meter(NodeMetrics.MeterName);
        using var reader = new MeterReader(meter, static instrument => instrument.Name != "left-out");
        Histogram<double> leftOut = meter.CreateHistogram<double>("left-out");
        Histogram<double> kept = meter.CreateHistogram<double>("kept");

        leftOut.Record(1, Read);
        kept.Record(2, Read);

        MetricsSnapshot snapshot = reader.Snapshot();
        Assert.Empty(snapshot.Series("left-out"));
        Assert.Equal(1, snapshot.Count("kept", "family", "read"));
    }

    [Fact]
    public void NodeMetrics_Reader_TotalsCommandDurationButNotThePrometheusOnlyHistograms()
    {
        using var metrics = new NodeMetrics();
        Histogram<double> replicaDuration = metrics.Meter.CreateHistogram<double>("dynamite.test.only.duration");

        replicaDuration.Record(1, Read);

        Assert.Empty(metrics.Reader.Snapshot().Series("dynamite.test.only.duration"));
    }

    [Fact]
    public void Snapshot_ObservableGauge_ReadsNowAndDropsSeriesNoLongerReported()
    {
        var pending = new Dictionary<string, long> { ["n2"] = 3, ["n3"] = 4 };
        _meter.CreateObservableUpDownCounter("g", () => pending.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("node", p.Key))));

        Assert.Equal(7, _reader.Snapshot().Whole("g"));
        pending.Remove("n2");
        pending["n3"] = 1;

        MetricsSnapshot later = _reader.Snapshot();
        Assert.Equal([new("n3", 1)], later.WholeBy("g", "node"));
    }

    [Fact]
    public void Snapshot_TwoMetersOfOneName_EachReaderSeesOnlyItsOwn()
    {
        using var other = new Meter(NodeMetrics.MeterName);

        _meter.CreateCounter<long>("c").Add(1);
        other.CreateCounter<long>("c").Add(100);

        Assert.Equal(1, _reader.Snapshot().Whole("c"));
    }

    [Fact]
    public void Record_WithTheReaderAndThePrometheusExporterListening_AllocatesNothing()
    {
        using var metrics = new NodeMetrics();
        using MeterProvider exporter = PrometheusEndpoint.CreateProvider(metrics);
        // The command-duration histogram: the one histogram the reader totals (INFO commandstats).
        Counter<long> counter = metrics.Meter.CreateCounter<long>("c");
        var peer = new KeyValuePair<string, object?>("peer", "n2");
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < 100; i++)
        {
            metrics.Resp.CommandDone(CommandFamily.Read, started);
            counter.Add(1, peer, Write);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            metrics.Resp.CommandDone(CommandFamily.Read, started);
            counter.Add(1, peer, Write);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_100, metrics.Reader.Snapshot().Count(RespMetrics.CommandDuration, "family", "read"));
    }
}
