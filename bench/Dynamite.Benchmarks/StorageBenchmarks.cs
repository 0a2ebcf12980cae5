using BenchmarkDotNet.Attributes;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Memory;

namespace Dynamite.Benchmarks;

/// <summary>The memory engine alone: a point read (hit and miss) and a one-key write through ExecuteAsync.</summary>
// Not sealed: BenchmarkDotNet emits a type deriving from each benchmark class.
public class StorageBenchmarks
{
    private const int Keys = 1024;

    private readonly MemoryStorageEngine _engine = new(new KeyPartitioner(8));
    private readonly byte[] _hitKey = BenchmarkData.Key(7);
    private readonly byte[] _missKey = BenchmarkData.Key(Keys + 7);
    private SetRecordOperation _set = null!;

    [GlobalSetup]
    public void Setup()
    {
        byte[] value = BenchmarkData.Value();
        for (int i = 0; i < Keys; i++)
        {
            Synchronous.Complete(_engine.ExecuteAsync(new SetRecordOperation(BenchmarkData.Key(i), value), BenchmarkData.NowUnixMs));
        }

        // Overwrites an existing key: the steady state of a SET workload over a fixed key space.
        _set = new SetRecordOperation(BenchmarkData.Key(11), value);
    }

    [Benchmark]
    public bool TryReadHit() => _engine.TryRead(_hitKey, BenchmarkData.NowUnixMs, out _);

    [Benchmark]
    public bool TryReadMiss() => _engine.TryRead(_missKey, BenchmarkData.NowUnixMs, out _);

    [Benchmark]
    public void Set() => Synchronous.Complete(_engine.ExecuteAsync(_set, BenchmarkData.NowUnixMs));
}
