using Dynamite.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace Dynamite.IntegrationTests.RealClients;

/// <summary>
/// Microsoft's HybridCache and FusionCache, unchanged, as two instances of an application use them on a 3-node cluster
/// (N=3, R=W=2), each instance's second level an <see cref="IDistributedCache"/> on another node: what one instance
/// caches, the other finds there instead of computing it again. (Their pub/sub invalidation is not tested: pub/sub is
/// issue 15.)
/// </summary>
public sealed class ClusterHybridCachesTests
{
    [Fact]
    public async Task HybridCache_AnEntryOneInstanceCreated_IsFoundByAnotherThroughAnotherNode()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using RedisCache firstL2 = DistributedCaches.For(cluster[0].Port);
        using RedisCache secondL2 = DistributedCaches.For(cluster[2].Port);
        await using ServiceProvider first = HybridCacheOver(firstL2);
        await using ServiceProvider second = HybridCacheOver(secondL2);

        string created = await first.GetRequiredService<HybridCache>().GetOrCreateAsync("product:7", _ => ValueTask.FromResult("widget"));
        using RawRespClient raw = cluster.Connect(1);
        // HybridCache may write its second level after it answers: wait (bounded) until the entry is on the cluster.
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); raw.Call("EXISTS", "app:product:7").ToString() != ":1" && waited.Elapsed < TimeSpan.FromSeconds(10);)
        {
            await Task.Delay(50);
        }

        string found = await second.GetRequiredService<HybridCache>().GetOrCreateAsync<string>(
            "product:7", _ => throw new InvalidOperationException("the second instance computed an entry the first had cached"));

        Assert.Equal("widget", created);
        Assert.Equal("widget", found);
        Assert.Equal("+hash", raw.Call("TYPE", "app:product:7").ToString());
    }

    [Fact]
    public async Task FusionCache_AnEntryOneInstanceSet_IsFoundByAnotherThroughAnotherNode()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using RedisCache firstL2 = DistributedCaches.For(cluster[0].Port);
        using RedisCache secondL2 = DistributedCaches.For(cluster[1].Port);
        using var first = new FusionCache(new FusionCacheOptions());
        first.SetupDistributedCache(firstL2, new FusionCacheSystemTextJsonSerializer());
        using var second = new FusionCache(new FusionCacheOptions());
        second.SetupDistributedCache(secondL2, new FusionCacheSystemTextJsonSerializer());

        await first.SetAsync("price:7", 1250, TimeSpan.FromMinutes(5));
        int found = await second.GetOrSetAsync<int>("price:7", _ => throw new InvalidOperationException("the second instance computed an entry the first had set"));
        await second.RemoveAsync("price:7");

        Assert.Equal(1250, found);
        using RawRespClient raw = cluster.Connect(2);
        Assert.Equal(":0", raw.Call("EXISTS", "app:price:7").ToString());
    }

    private static ServiceProvider HybridCacheOver(IDistributedCache secondLevel)
    {
        var services = new ServiceCollection();
        services.AddSingleton(secondLevel);
        services.AddHybridCache();
        return services.BuildServiceProvider();
    }
}
