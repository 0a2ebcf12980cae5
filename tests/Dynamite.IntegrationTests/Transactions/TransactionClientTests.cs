using System.Globalization;
using Dynamite.IntegrationTests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace Dynamite.IntegrationTests.Transactions;

/// <summary>
/// Transactions as .NET and Python applications send them, on a 3-node cluster (issue 15: a transaction must never
/// report failure while its writes land). StackExchange.Redis and redis-py send MULTI, the commands and EXEC in one
/// batch; both must see EXEC's replies, and a transaction the node refuses must leave nothing written.
/// </summary>
public sealed class TransactionClientTests
{
    private const string Python = "/usr/bin/python3";

    [Fact]
    public async Task StackExchangeRedis_Transaction_CommitsAndEveryNodeSeesItsWrites()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        ConnectionMultiplexer redis = Connect(cluster[0].Port);
        try
        {
            IDatabase db = redis.GetDatabase();
            // The client sees a Redis Cluster (CLUSTER NODES), so a transaction's keys share a slot through a hash tag.
            ITransaction transaction = db.CreateTransaction();
            Task<bool> set = transaction.StringSetAsync("{tx}:a", "1");
            Task<long> increment = transaction.StringIncrementAsync("{tx}:n", 5);
            Task<RedisValue> get = transaction.StringGetAsync("{tx}:a");

            Assert.True(await transaction.ExecuteAsync());
            Assert.True(await set);
            Assert.Equal(5, await increment);
            Assert.Equal("1", (string?)await get);
        }
        finally
        {
            await Task.Run(redis.Dispose);
        }

        using RawRespClient node2 = cluster.Connect(1);
        Assert.Equal("$\"5\"", node2.Call("GET", "{tx}:n").ToString());
    }

    [Fact]
    public async Task StackExchangeRedis_TransactionsWithConditions_CommitWhenTheyHold_AndNotWhenAnotherClientChangedTheKey()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        ConnectionMultiplexer redis = Connect(cluster[0].Port);
        try
        {
            IDatabase db = redis.GetDatabase();
            ITransaction first = db.CreateTransaction();
            first.AddCondition(Condition.KeyNotExists("{tx}:guarded"));
            _ = first.StringSetAsync("{tx}:guarded", "written");
            Assert.True(await first.ExecuteAsync());

            // SE.Redis's conditions are WATCH plus a check; a change by another client between them aborts EXEC.
            ITransaction second = db.CreateTransaction();
            second.AddCondition(Condition.StringEqual("{tx}:guarded", "written"));
            _ = second.StringSetAsync("{tx}:guarded", "second");
            Assert.True(await second.ExecuteAsync());
            Assert.Equal("second", (string?)await db.StringGetAsync("{tx}:guarded"));

            ITransaction stale = db.CreateTransaction();
            stale.AddCondition(Condition.StringEqual("{tx}:guarded", "written"));
            _ = stale.StringSetAsync("{tx}:guarded", "stale");
            Assert.False(await stale.ExecuteAsync());
        }
        finally
        {
            await Task.Run(redis.Dispose);
        }

        using RawRespClient node1 = cluster.Connect(0);
        Assert.Equal("$\"second\"", node1.Call("GET", "{tx}:guarded").ToString());

        // Raw: WATCH, a change by another client through another node, then EXEC: null, nothing written.
        using RawRespClient watcher = cluster.Connect(0);
        using RawRespClient other = cluster.Connect(2);
        Assert.Equal("+OK", watcher.Call("WATCH", "{tx}:guarded").ToString());
        Assert.Equal("+OK", other.Call("SET", "{tx}:guarded", "changed").ToString());
        Assert.Equal("+OK", watcher.Call("MULTI").ToString());
        Assert.Equal("+QUEUED", watcher.Call("SET", "{tx}:guarded", "lost").ToString());
        Assert.Equal("*(nil)", watcher.Call("EXEC").ToString());
        Assert.Equal("$\"changed\"", node1.Call("GET", "{tx}:guarded").ToString());
    }

    [Fact]
    public async Task RedisPy_TransactionalPipeline_ReturnsEveryReply_AndAnAbortedOrCrossSlotOneWritesNothing()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        const string script = """
            import sys, redis
            r = redis.Redis(port=int(sys.argv[1]))
            p = r.pipeline(transaction=True)
            p.set("{py}:a", "1"); p.incrby("{py}:n", 7); p.get("{py}:a")
            assert p.execute() == [True, 7, b"1"], "EXEC replies"
            p = r.pipeline(transaction=True)
            p.set("cross:a", "1"); p.set("cross:b", "2")
            try:
                p.execute()
                raise SystemExit("a transaction over two slots raised nothing")
            except redis.exceptions.ResponseError as error:
                assert "CROSSSLOT" in str(error), str(error)
            assert r.get("cross:a") is None and r.get("cross:b") is None, "a refused transaction wrote"
            p = r.pipeline(transaction=True)
            p.set("py:b", "2"); p.execute_command("NOSUCHCOMMAND")
            try:
                p.execute()
                raise SystemExit("an aborted transaction raised nothing")
            except redis.exceptions.ResponseError as error:
                assert "EXECABORT" in str(error) or "unknown command" in str(error), str(error)
            assert r.get("py:b") is None, "an aborted transaction wrote"
            print("OK")
            """;
        ExternalTool.Result result = await ExternalTool.RunAsync(
            Python, ["-c", script, cluster[0].Port.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0 && result.StandardOutput.Trim().EndsWith("OK", StringComparison.Ordinal), result.ToString());
    }

    private static ConnectionMultiplexer Connect(int port) => ConnectionMultiplexer.Connect(new ConfigurationOptions
    {
        EndPoints = { { "127.0.0.1", port } },
        AbortOnConnectFail = true,
        ConnectTimeout = 15000,
        SyncTimeout = 15000,
        AsyncTimeout = 15000,
        ConfigurationChannel = "",
    });
}
