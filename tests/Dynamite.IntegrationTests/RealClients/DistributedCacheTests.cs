using System.Text;
using Dynamite.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Xunit;

namespace Dynamite.IntegrationTests.RealClients;

/// <summary>
/// Microsoft.Extensions.Caching.StackExchangeRedis's <see cref="IDistributedCache"/>, unchanged, against a single
/// node: it stores each entry as a hash (HSET/HMSET of absexp, sldexp and data), reads it with HMGET, and sets the
/// key's expiry with EXPIRE. Expiries are checked through TTL on the node rather than by waiting for them.
/// </summary>
public sealed class DistributedCacheTests(SingleNodeFixture fixture) : IClassFixture<SingleNodeFixture>
{
    [Fact]
    public async Task SetWithAbsoluteExpiry_GetRefreshWithSlidingExpiryAndRemove_WorkAsOnRedis()
    {
        using RedisCache cache = DistributedCaches.For(fixture.Node.Port);
        using RawRespClient raw = fixture.Node.Connect();

        await cache.SetAsync("absolute", Encoding.UTF8.GetBytes("hello"), new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) });
        Assert.Equal("hello", Encoding.UTF8.GetString((await cache.GetAsync("absolute"))!));
        Assert.Equal("+hash", raw.Call("TYPE", "app:absolute").ToString());
        long absoluteTtl = long.Parse(raw.Call("TTL", "app:absolute").ToString()[1..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(absoluteTtl, 590, 600);

        await cache.SetAsync("sliding", Encoding.UTF8.GetBytes("session"), new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(20) });
        raw.Call("EXPIRE", "app:sliding", "5"); // as if most of the window had passed
        await cache.RefreshAsync("sliding");
        long slidingTtl = long.Parse(raw.Call("TTL", "app:sliding").ToString()[1..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(slidingTtl, 1190, 1200);
        Assert.Equal("session", Encoding.UTF8.GetString((await cache.GetAsync("sliding"))!));

        await cache.RemoveAsync("absolute");
        Assert.Null(await cache.GetAsync("absolute"));
        Assert.Equal(":0", raw.Call("EXISTS", "app:absolute").ToString());
        Assert.Null(await cache.GetAsync("never-set"));
    }
}
