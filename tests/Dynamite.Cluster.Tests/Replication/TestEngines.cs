using Dynamite.Core.Partitioning;
using Dynamite.Storage;
using Dynamite.Storage.Memory;
using Dynamite.Storage.RocksDb;
using Dynamite.Storage.Sqlite;

namespace Dynamite.Cluster.Tests.Replication;

/// <summary>Opens memory, sqlite and rocksdb engines for a test (the durable ones in a fresh temporary directory) and disposes them, and the directory, at the end.</summary>
internal sealed class TestEngines : IAsyncDisposable
{
    public static readonly KeyPartitioner Partitioner = new(8);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "dynamite-replication-tests", Guid.NewGuid().ToString("N"));
    private readonly List<IStorageEngine> _open = [];

    /// <summary>"memory", "sqlite" or "rocksdb" (the database in <paramref name="name"/> under this test's directory).</summary>
    public IStorageEngine Open(string kind, string name = "data")
    {
        IStorageEngine engine = kind switch
        {
            "memory" => new MemoryStorageEngine(Partitioner),
            "sqlite" => new SqliteStorageEngine(Path.Combine(_root, name), Partitioner, FsyncPolicy.Batch),
            "rocksdb" => new RocksDbStorageEngine(Path.Combine(_root, name), Partitioner, FsyncPolicy.Batch),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "memory, sqlite or rocksdb"),
        };
        _open.Add(engine);
        return engine;
    }

    /// <summary>Disposes <paramref name="engine"/> now (a clean shutdown), so a test can reopen its database.</summary>
    public async Task CloseAsync(IStorageEngine engine)
    {
        _open.Remove(engine);
        await engine.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (IStorageEngine engine in _open)
        {
            await engine.DisposeAsync();
        }

        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
