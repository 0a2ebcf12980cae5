using System.Globalization;
using System.Text;
using Dynamite.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Xunit;

namespace Dynamite.IntegrationTests.RealClients;

/// <summary>
/// Microsoft.Extensions.Caching.StackExchangeRedis's <see cref="IDistributedCache"/>, unchanged, as two instances of an
/// application use it on a 3-node cluster (N=3, R=W=2), each connected to another node: an entry one instance sets (a
/// hash with HSET, its expiry with EXPIRE) the other reads (HMGET), refreshes (EXPIRE) and removes (DEL).
/// </summary>
public sealed class ClusterDistributedCacheTests
{
    [Fact]
    public async Task EntriesSetThroughOneNode_AreReadRefreshedAndRemovedThroughAnother()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using RedisCache first = DistributedCaches.For(cluster[0].Port);
        using RedisCache second = DistributedCaches.For(cluster[2].Port);
        using RawRespClient raw = cluster.Connect(1);

        await first.SetAsync("session:42", Encoding.UTF8.GetBytes("cart=3"), new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(20) });
        Assert.Equal("cart=3", Encoding.UTF8.GetString((await second.GetAsync("session:42"))!));
        Assert.Equal("+hash", raw.Call("TYPE", "app:session:42").ToString());

        raw.Call("EXPIRE", "app:session:42", "5"); // as if most of the window had passed
        await second.RefreshAsync("session:42");
        long ttl = long.Parse(raw.Call("TTL", "app:session:42").ToString()[1..], CultureInfo.InvariantCulture);
        Assert.InRange(ttl, 1190, 1200);

        await first.SetAsync("session:42", Encoding.UTF8.GetBytes("cart=4"), new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) });
        Assert.Equal("cart=4", Encoding.UTF8.GetString((await second.GetAsync("session:42"))!));

        await second.RemoveAsync("session:42");
        Assert.Null(await first.GetAsync("session:42"));
        Assert.Equal(":0", raw.Call("EXISTS", "app:session:42").ToString());
    }
}
