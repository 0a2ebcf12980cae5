using Dynamite.Core.Partitioning;
using Dynamite.Server.Configuration;
using Dynamite.Storage;
using Dynamite.Storage.Memory;
using Dynamite.Storage.Sqlite;

namespace Dynamite.Server.Hosting;

/// <summary>Opens the engine the configuration names.</summary>
public static class StorageEngineFactory
{
    public static IStorageEngine Open(NodeConfiguration configuration)
    {
        var partitioner = new KeyPartitioner(configuration.PartitionBits);
        return configuration.Engine.ToLowerInvariant() switch
        {
            "memory" => new MemoryStorageEngine(partitioner),
            "sqlite" => new SqliteStorageEngine(configuration.ResolvedDataDir, partitioner, configuration.Fsync),
            _ => throw new ConfigurationException($"engine must be sqlite or memory, not '{configuration.Engine}'."),
        };
    }
}
