using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Differential;

/// <summary>
/// One reference redis-server, one Dynamite node per engine and node 1 of a 3-node cluster (memory engine, N=3,
/// R=W=2), shared by all differential cases.
/// </summary>
public sealed class DifferentialFixture : IAsyncLifetime
{
    internal RedisServer Redis { get; private set; } = null!;

    internal Dictionary<string, DynamiteNode> Nodes { get; } = [];

    internal LocalCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Nodes["memory"] = await DynamiteNode.StartAsync("memory");
        Nodes["rocksdb"] = await DynamiteNode.StartAsync("rocksdb", ["--fsync", "never"]);
        Nodes["sqlite"] = await DynamiteNode.StartAsync("sqlite", ["--fsync", "never"]);
        Cluster = await LocalCluster.StartAsync();
    }

    /// <summary>A client of the target a case runs against: an engine's standalone node, or "cluster".</summary>
    internal RawRespClient Connect(string target) => target == "cluster" ? Cluster.Connect(0) : Nodes[target].Connect();

    public async Task DisposeAsync()
    {
        await Redis.DisposeAsync();
        await Cluster.DisposeAsync();
        foreach (DynamiteNode node in Nodes.Values)
        {
            await node.DisposeAsync();
        }
    }
}
