using System.Collections.Concurrent;
using System.Globalization;
using Dynamite.IntegrationTests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace Dynamite.StackExchangeRedis3.Tests;

/// <summary>
/// StackExchange.Redis 3.x, unchanged, given the three endpoints of a 3-node cluster: it reads the cluster's topology
/// and sends each key to a node that coordinates it (a uniform workload lands on every node), and its transactions,
/// locks, scripts and pub/sub work through the cluster.
/// </summary>
public sealed class StackExchangeRedis3ClusterTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ThreeEndpoints_SpreadAUniformWorkload_AndTransactionsLocksScriptsAndPubSubWork()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await cluster.WaitUntilAllSeeEachOtherAsync();
        long[] before = [.. Enumerable.Range(0, 3).Select(i => CommandsProcessed(cluster, i))];
        var options = new ConfigurationOptions { AbortOnConnectFail = true, ConnectTimeout = 15000, SyncTimeout = 15000, AsyncTimeout = 15000 };
        for (int i = 0; i < 3; i++)
        {
            options.EndPoints.Add("127.0.0.1", cluster[i].Port);
        }

        var log = new StringWriter();
        ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(options, log);
        output.WriteLine(log.ToString());
        try
        {
            Assert.Equal(ServerType.Cluster, redis.GetServer(redis.GetEndPoints()[0]).ServerType);
            IDatabase db = redis.GetDatabase();
            const int Keys = 3000;
            await Task.WhenAll(Enumerable.Range(0, Keys).Select(i => db.StringSetAsync($"se3:{i}", i)));
            long[] served = [.. Enumerable.Range(0, 3).Select(i => CommandsProcessed(cluster, i) - before[i])];
            long total = served.Sum();
            output.WriteLine($"commands per node: {string.Join(" / ", served)} ({string.Join(" / ", served.Select(c => ((double)c / total).ToString("P1", CultureInfo.InvariantCulture)))})");
            Assert.All(served, count => Assert.InRange((double)count / total, 0.25, 0.42));

            // A transaction with a condition (WATCH underneath) on keys sharing a tag.
            ITransaction transaction = db.CreateTransaction();
            transaction.AddCondition(Condition.KeyNotExists("{cart:3}:lock"));
            _ = transaction.StringSetAsync("{cart:3}:items", "2");
            _ = transaction.StringIncrementAsync("{cart:3}:version");
            Assert.True(await transaction.ExecuteAsync());

            Assert.True(await db.LockTakeAsync("se3:lock", "a", TimeSpan.FromSeconds(30)));
            Assert.False(await db.LockTakeAsync("se3:lock", "b", TimeSpan.FromSeconds(30)));
            Assert.True(await db.LockExtendAsync("se3:lock", "a", TimeSpan.FromSeconds(60)));
            Assert.True(await db.LockReleaseAsync("se3:lock", "a"));

            Assert.Equal(5, (int)await db.ScriptEvaluateAsync("return redis.call('INCRBY', KEYS[1], ARGV[1])", [(RedisKey)"se3:counter"], [5]));

            var received = new ConcurrentQueue<string>();
            var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            ChannelMessageQueue queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal("se3:news"));
            queue.OnMessage(message =>
            {
                received.Enqueue(message.Message!);
                if (received.Count == 50)
                {
                    all.TrySetResult();
                }
            });
            for (int i = 0; i < 50; i++)
            {
                await redis.GetSubscriber().PublishAsync(RedisChannel.Literal("se3:news"), $"m{i}");
            }

            await all.Task.WaitAsync(TimeSpan.FromSeconds(15));
            Assert.Equal(Enumerable.Range(0, 50).Select(i => $"m{i}").Order(), received.Order());
        }
        finally
        {
            await Task.Run(redis.Dispose);
        }

        using RawRespClient node = cluster.Connect(2);
        Assert.Equal("$\"2\"", node.Call("GET", "{cart:3}:items").ToString());
        Assert.Equal("$\"5\"", node.Call("GET", "se3:counter").ToString());
    }

    private static long CommandsProcessed(LocalCluster cluster, int index)
    {
        using RawRespClient client = cluster.Connect(index);
        string stats = client.Call("INFO", "stats").Text!;
        string line = stats.Split("\r\n").Single(l => l.StartsWith("total_commands_processed:", StringComparison.Ordinal));
        return long.Parse(line["total_commands_processed:".Length..], CultureInfo.InvariantCulture);
    }
}
