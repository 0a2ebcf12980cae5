using System.Globalization;
using StackExchange.Redis;
using Xunit;

namespace Dynamite.IntegrationTests.RealClients;

/// <summary>
/// StackExchange.Redis 2.8 (the distributed-cache package needs 2.x; 1.2.6 before): it probes the server with INFO,
/// CONFIG GET, CLIENT and ECHO on connect, multiplexes every call over one connection and pipelines.
/// </summary>
public sealed class StackExchangeRedisTests(SingleNodeFixture fixture) : IClassFixture<SingleNodeFixture>
{
    /// <summary>
    /// Runs <paramref name="body"/> on a fresh connection. 1.2.6 ran await continuations on its socket
    /// reader thread, and disposing the multiplexer from that thread waits out a timeout for itself, so
    /// the dispose is moved to the thread pool.
    /// </summary>
    private async Task WithDatabaseAsync(Func<IDatabase, Task> body)
    {
        ConnectionMultiplexer redis = Connect();
        try
        {
            await body(redis.GetDatabase());
        }
        finally
        {
            await Task.Run(redis.Dispose);
        }
    }

    private ConnectionMultiplexer Connect()
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { { "127.0.0.1", fixture.Node.Port } },
            AbortOnConnectFail = true,
            ConnectTimeout = 15000,
            SyncTimeout = 15000,
            AsyncTimeout = 15000,
            AllowAdmin = true,
            ConfigurationChannel = "",
        };
        return ConnectionMultiplexer.Connect(options);
    }

    [Fact]
    public Task StringCommands_RoundTrip() => WithDatabaseAsync(async db =>
    {
        Assert.True(await db.StringSetAsync("se:k", "v"));
        Assert.Equal("v", (string?)await db.StringGetAsync("se:k"));
        Assert.True((await db.StringGetAsync("se:missing")).IsNull);
        Assert.False(await db.StringSetAsync("se:k", "w", when: When.NotExists));
        Assert.Equal(5, await db.StringIncrementAsync("se:n", 5));
        Assert.Equal(2.5, await db.StringIncrementAsync("se:f", 2.5));
        Assert.Equal(3, await db.StringAppendAsync("se:s", "abc"));
        Assert.Equal("bc", (string?)await db.StringGetRangeAsync("se:s", 1, -1));
        Assert.True(await db.StringSetAsync([new("se:m1", "1"), new("se:m2", "2")]));
        RedisValue[] values = await db.StringGetAsync(["se:m1", "se:absent", "se:m2"]);
        Assert.Equal(["1", null, "2"], values.Select(v => (string?)v));
        Assert.Equal(2, await db.KeyDeleteAsync(["se:m1", "se:m2", "se:absent"]));
    });

    [Fact]
    public Task Expiry_SetAndRead() => WithDatabaseAsync(async db =>
    {
        Assert.True(await db.StringSetAsync("se:e", "v", TimeSpan.FromSeconds(100)));
        TimeSpan? ttl = await db.KeyTimeToLiveAsync("se:e");
        Assert.NotNull(ttl);
        Assert.InRange(ttl!.Value.TotalSeconds, 95, 100);
        Assert.True(await db.KeyPersistAsync("se:e"));
        Assert.Null(await db.KeyTimeToLiveAsync("se:e"));
    });

    [Fact]
    public Task ManyConcurrentCalls_MultiplexedOnOneConnection_AllCorrect() => WithDatabaseAsync(async db =>
    {
        Task<bool>[] sets = [.. Enumerable.Range(0, 2000).Select(i => db.StringSetAsync($"se:c{i}", i.ToString(CultureInfo.InvariantCulture)))];
        Assert.All(await Task.WhenAll(sets), Assert.True);
        Task<RedisValue>[] gets = [.. Enumerable.Range(0, 2000).Select(i => db.StringGetAsync($"se:c{i}"))];
        RedisValue[] results = await Task.WhenAll(gets);
        for (int i = 0; i < results.Length; i++)
        {
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), (string?)results[i]);
        }

        Task<long>[] increments = [.. Enumerable.Range(0, 1000).Select(_ => db.StringIncrementAsync("se:counter"))];
        await Task.WhenAll(increments);
        Assert.Equal(1000, (long)await db.StringGetAsync("se:counter"));
    });

    [Fact]
    public Task Batch_PipelinedTogether_AllApplied() => WithDatabaseAsync(async db =>
    {
        IBatch batch = db.CreateBatch();
        Task<bool>[] sets = [.. Enumerable.Range(0, 100).Select(i => batch.StringSetAsync($"se:b{i}", "x"))];
        batch.Execute();
        Assert.All(await Task.WhenAll(sets), Assert.True);
        Assert.True(await db.KeyExistsAsync("se:b99"));
    });

    [Fact]
    public void Server_ProbesAndScan_Work()
    {
        using ConnectionMultiplexer redis = Connect();
        IServer server = redis.GetServer("127.0.0.1", fixture.Node.Port);
        Assert.True(server.IsConnected);
        IDatabase db = redis.GetDatabase();
        for (int i = 0; i < 30; i++)
        {
            db.StringSet($"se:scan{i}", "x");
        }

        Assert.Equal(30, server.Keys(pattern: "se:scan*", pageSize: 7).Count());
        Assert.True(server.DatabaseSize() >= 30);
        Assert.NotEmpty(server.Info());
        Assert.True(db.Ping() < TimeSpan.FromSeconds(5));
    }
}
