using Dynamite.Cluster.Local;
using Dynamite.Core.Partitioning;
using Dynamite.Server.Admin;
using Dynamite.Server.Metrics;
using Dynamite.Storage.Memory;
using BenchmarkDotNet.Attributes;
using OpenTelemetry.Metrics;

namespace Dynamite.Benchmarks;

/// <summary>
/// <see cref="CommandPathBenchmarks"/> as a running node measures it: the node's metrics with both of their
/// listeners attached (the <see cref="MeterReader"/> behind INFO and the Prometheus exporter's provider), so each
/// command is timed into the command histogram and each write into the storage histogram. The difference to
/// <see cref="CommandPathBenchmarks"/> is what metrics cost a command; GET must still allocate nothing.
/// </summary>
// Not sealed: BenchmarkDotNet emits a type deriving from each benchmark class.
public class MeasuredCommandPathBenchmarks
{
    private NodeMetrics _metrics = null!;
    private MeterProvider _exporter = null!;
    private CommandPathRunner _runner = null!;

    [GlobalSetup]
    public void Setup()
    {
        _metrics = new NodeMetrics();
        _exporter = PrometheusEndpoint.CreateProvider(_metrics);
        var engine = new MemoryStorageEngine(new KeyPartitioner(8));
        _runner = new CommandPathRunner(new LocalKeyValueStore(engine, TimeProvider.System), _metrics.Resp);
        _runner.Run(_runner.Set);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runner.Dispose();
        _exporter.Dispose();
        _metrics.Dispose();
    }

    [Benchmark]
    public int Get() => _runner.Run(_runner.Get);

    [Benchmark]
    public int Set() => _runner.Run(_runner.Set);
}
