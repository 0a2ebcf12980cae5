using Dynamite.Core.Partitioning;
using Dynamite.Server.Configuration;
using Dynamite.Server.Metrics;
using Dynamite.Storage;
using Dynamite.Storage.Lmdb;
using Dynamite.Storage.Memory;
using Dynamite.Storage.RocksDb;
using Dynamite.Storage.Sqlite;

namespace Dynamite.Server.Hosting;

/// <summary>Opens the engine the configuration names, its writes timed in the node's metrics.</summary>
public static class StorageEngineFactory
{
    public static IStorageEngine Open(NodeConfiguration configuration, NodeMetrics metrics)
    {
        var partitioner = new KeyPartitioner(configuration.PartitionBits);
        long cacheBytes = (long)configuration.RecordCacheMb << 20;
        return configuration.Engine.ToLowerInvariant() switch
        {
            "memory" => new MemoryStorageEngine(partitioner),
            "sqlite" => new SqliteStorageEngine(configuration.ResolvedDataDir, partitioner, configuration.Fsync, metrics.ForDataEngine("sqlite"), recordCacheBytes: cacheBytes),
            "rocksdb" => new RocksDbStorageEngine(configuration.ResolvedDataDir, partitioner, configuration.Fsync, metrics.ForDataEngine("rocksdb"), recordCacheBytes: cacheBytes),
            "lmdb" => new LmdbStorageEngine(configuration.ResolvedDataDir, partitioner, configuration.Fsync, metrics.ForDataEngine("lmdb"), recordCacheBytes: cacheBytes),
            _ => throw new ConfigurationException($"engine must be rocksdb, sqlite, memory or lmdb, not '{configuration.Engine}'."),
        };
    }
}
