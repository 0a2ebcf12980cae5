using Dynamite.Cluster.Local;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Memory;
using BenchmarkDotNet.Attributes;

namespace Dynamite.Benchmarks;

/// <summary>
/// The whole single-node request path without the socket: parse one request, dispatch it through the command
/// table to a LocalKeyValueStore over the memory engine, write the reply. The allocation per GET and per SET
/// reported here is the request path's allocation (issue 7); GET must stay at zero (PERFORMANCE.md).
/// </summary>
// Not sealed: BenchmarkDotNet emits a type deriving from each benchmark class.
public class CommandPathBenchmarks
{
    private CommandPathRunner _runner = null!;

    [GlobalSetup]
    public void Setup()
    {
        var engine = new MemoryStorageEngine(new KeyPartitioner(8));
        _runner = new CommandPathRunner(new LocalKeyValueStore(engine, TimeProvider.System));
        _runner.Run(_runner.Set);
    }

    [GlobalCleanup]
    public void Cleanup() => _runner.Dispose();

    [Benchmark]
    public int Get() => _runner.Run(_runner.Get);

    [Benchmark]
    public int Set() => _runner.Run(_runner.Set);
}
