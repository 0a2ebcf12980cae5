using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.RealClients;

/// <summary>One rocksdb node (the default engine and durability) shared by a real-client test class.</summary>
public sealed class SingleNodeFixture : IAsyncLifetime
{
    internal DynamiteNode Node { get; private set; } = null!;

    public async Task InitializeAsync() => Node = await DynamiteNode.StartAsync("rocksdb");

    public async Task DisposeAsync() => await Node.DisposeAsync();
}
