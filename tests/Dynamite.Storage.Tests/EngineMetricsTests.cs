using System.Diagnostics.Metrics;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Lmdb;
using Dynamite.Storage.Metrics;
using Dynamite.Storage.RocksDb;
using Dynamite.Storage.Sqlite;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Dynamite.Storage.Tests;

/// <summary>
/// What a durable engine records into <see cref="StorageMetrics.OperationDuration"/>: one <c>write</c> measurement per
/// operation (queued to acknowledged) and one <c>commit</c> per group commit, tagged with the store and the engine.
/// </summary>
public sealed class EngineMetricsTests : IDisposable
{
    private const long Now = 1_700_000_000_000;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dynamite-storage-tests", Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData("sqlite")]
    [InlineData("rocksdb")]
    [InlineData("lmdb")]
    public async Task ExecuteAsync_DurableEngine_TimesEachWriteAndEachGroupCommit(string engineName)
    {
        using var meter = new Meter("test");
        using var durations = new MetricCollector<double>(meter, StorageMetrics.OperationDuration);
        EngineMetrics metrics = new StorageMetrics(meter).ForStore("data", engineName);
        var partitioner = new KeyPartitioner(4);
        await using (DurableStorageEngine engine = engineName switch
        {
            "sqlite" => new SqliteStorageEngine(_directory, partitioner, FsyncPolicy.Never, metrics),
            "rocksdb" => new RocksDbStorageEngine(_directory, partitioner, FsyncPolicy.Never, metrics),
            _ => new LmdbStorageEngine(_directory, partitioner, FsyncPolicy.Never, metrics),
        })
        {
            for (int i = 0; i < 20; i++)
            {
                byte[] key = [(byte)'k', (byte)i];
                await engine.ExecuteAsync(new DelegateOperation(t => t.Write(key, new StoredRecord([1], 0))), Now);
            }
        }

        IReadOnlyList<CollectedMeasurement<double>> measured = durations.GetMeasurementSnapshot();
        Assert.All(measured, m => Assert.True(m.ContainsTags(Tag("store", "data"), Tag("engine", engineName)), "tags: " + string.Join(",", m.Tags)));
        Assert.All(measured, m => Assert.InRange(m.Value, 0, 60));
        Assert.Equal(20, measured.Count(m => m.ContainsTags(Tag("op", "write"))));
        // Awaited one at a time, so each write may be its own commit; never more commits than writes.
        Assert.InRange(measured.Count(m => m.ContainsTags(Tag("op", "commit"))), 1, 20);
    }

    private static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
