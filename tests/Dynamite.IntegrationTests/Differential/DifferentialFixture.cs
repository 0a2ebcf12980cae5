using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Differential;

/// <summary>One reference redis-server and one Dynamite node per engine, shared by all differential cases.</summary>
public sealed class DifferentialFixture : IAsyncLifetime
{
    internal RedisServer Redis { get; private set; } = null!;

    internal Dictionary<string, DynamiteNode> Nodes { get; } = [];

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Nodes["memory"] = await DynamiteNode.StartAsync("memory");
        Nodes["rocksdb"] = await DynamiteNode.StartAsync("rocksdb", ["--fsync", "never"]);
        Nodes["sqlite"] = await DynamiteNode.StartAsync("sqlite", ["--fsync", "never"]);
    }

    public async Task DisposeAsync()
    {
        await Redis.DisposeAsync();
        foreach (DynamiteNode node in Nodes.Values)
        {
            await node.DisposeAsync();
        }
    }
}
