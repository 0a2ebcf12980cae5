using Dynamite.IntegrationTests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace Dynamite.IntegrationTests.Scripting;

/// <summary>
/// Scripts and functions on a real 3-node cluster, through StackExchange.Redis in cluster mode (ScriptEvaluate, its
/// LockTake/LockExtend/LockRelease) and raw RESP: a script's writes replicate as its commands, so every node reads them.
/// </summary>
public sealed class ClusterScriptTests
{
    [Fact]
    public async Task StackExchangeRedis_ScriptsAndLocks_WorkThroughAnyNode_AndTheirWritesReachEveryNode()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await cluster.WaitUntilAllSeeEachOtherAsync();
        var options = new ConfigurationOptions { AbortOnConnectFail = true, ConnectTimeout = 15000, SyncTimeout = 15000, AsyncTimeout = 15000, ConfigurationChannel = "" };
        for (int i = 0; i < 3; i++)
        {
            options.EndPoints.Add("127.0.0.1", cluster[i].Port);
        }

        ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(options);
        try
        {
            IDatabase db = redis.GetDatabase();
            // A rate limiter as applications write it: INCR, set the window's expiry once, answer the count.
            const string Limiter = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";
            for (int i = 1; i <= 5; i++)
            {
                Assert.Equal(i, (int)await db.ScriptEvaluateAsync(Limiter, [(RedisKey)"{rate}:user:7"], [60000]));
            }

            Assert.True(await db.KeyTimeToLiveAsync("{rate}:user:7") is { TotalSeconds: > 50 });
            RedisResult both = await db.ScriptEvaluateAsync("redis.call('SET', KEYS[1], ARGV[1]) redis.call('HSET', KEYS[2], 'f', ARGV[1]) return {redis.call('GET', KEYS[1]), redis.call('HGET', KEYS[2], 'f')}",
                [(RedisKey)"{pair}:s", (RedisKey)"{pair}:h"], ["v1"]);
            Assert.Equal(["v1", "v1"], (string[])both!);

            // Locks: take, refuse a second owner, extend, release (SE.Redis uses scripts or transactions for these).
            Assert.True(await db.LockTakeAsync("lock:orders", "owner-a", TimeSpan.FromSeconds(30)));
            Assert.False(await db.LockTakeAsync("lock:orders", "owner-b", TimeSpan.FromSeconds(30)));
            Assert.True(await db.LockExtendAsync("lock:orders", "owner-a", TimeSpan.FromSeconds(60)));
            Assert.False(await db.LockReleaseAsync("lock:orders", "owner-b"));
            Assert.True(await db.LockReleaseAsync("lock:orders", "owner-a"));
            Assert.True(await db.LockTakeAsync("lock:orders", "owner-b", TimeSpan.FromSeconds(30)));

            // A script error reaches the client as an error, and nothing is half-written by the failing call.
            var failure = await Assert.ThrowsAsync<RedisServerException>(() => db.ScriptEvaluateAsync("return redis.call('INCR', KEYS[1])", [(RedisKey)"{pair}:h"]));
            Assert.Contains("WRONGTYPE", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            await Task.Run(redis.Dispose);
        }

        for (int i = 0; i < 3; i++)
        {
            using RawRespClient node = cluster.Connect(i);
            Assert.Equal("$\"5\"", node.Call("GET", "{rate}:user:7").ToString());
            Assert.Equal("$\"v1\"", node.Call("HGET", "{pair}:h", "f").ToString());
            Assert.Equal("$\"owner-b\"", node.Call("GET", "lock:orders").ToString());
        }
    }

    [Fact]
    public async Task Functions_LoadedOnANode_RunThere_AndScriptsCannotSpanSlots()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await cluster.WaitUntilAllSeeEachOtherAsync();
        using RawRespClient node = cluster.Connect(1);
        string library = "#!lua name=counters\nredis.register_function('bump', function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end)\n"
            + "redis.register_function{function_name='peek', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}";
        Assert.Equal("$\"counters\"", node.Call("FUNCTION", "LOAD", library).ToString());
        Assert.Equal(":7", node.Call("FCALL", "bump", "1", "{c}:n", "7").ToString());
        Assert.Equal("$\"7\"", node.Call("FCALL_RO", "peek", "1", "{c}:n").ToString());
        Assert.StartsWith("-ERR Can not execute a script with write flag", node.Call("FCALL_RO", "bump", "1", "{c}:n", "1").ToString(), StringComparison.Ordinal);
        Assert.StartsWith("-CROSSSLOT", node.Call("EVAL", "return 1", "2", "{a}x", "{b}y").ToString(), StringComparison.Ordinal);
        Assert.StartsWith("-ERR Write commands are not allowed from read-only scripts", node.Call("EVAL_RO", "return redis.call('SET', KEYS[1], 'x')", "1", "k").ToString(), StringComparison.Ordinal);

        // DUMP from one node, RESTORE on another: the library runs there too.
        RespValue dump = node.Call("FUNCTION", "DUMP");
        using RawRespClient other = cluster.Connect(2);
        Assert.Equal("-ERR Function not found", other.Call("FCALL", "bump", "1", "{c}:n", "1").ToString());
        // The raw client reads and writes bulk strings as Latin-1: the binary payload round-trips unchanged.
        Assert.Equal("+OK", other.Call("FUNCTION", "RESTORE", dump.Text!).ToString());
        Assert.Equal(":8", other.Call("FCALL", "bump", "1", "{c}:n", "1").ToString());
    }
}
