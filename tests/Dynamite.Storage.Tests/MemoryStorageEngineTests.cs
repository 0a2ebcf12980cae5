using Dynamite.Core.Partitioning;
using Dynamite.Storage.Memory;

namespace Dynamite.Storage.Tests;

/// <summary>Runs the storage contract against the volatile engine.</summary>
public sealed class MemoryStorageEngineTests : StorageEngineContractTests
{
    protected override IStorageEngine CreateEngineCore(KeyPartitioner partitioner) => new MemoryStorageEngine(partitioner);
}
