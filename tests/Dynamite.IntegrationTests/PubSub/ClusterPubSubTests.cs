using System.Collections.Concurrent;
using Dynamite.IntegrationTests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace Dynamite.IntegrationTests.PubSub;

/// <summary>
/// Pub/sub on a real 3-node cluster: a message published through any node reaches the subscribers of every node, in
/// publish order, as Redis Cluster delivers it, through raw RESP2 and RESP3 connections and through unchanged clients
/// (StackExchange.Redis in cluster mode, FusionCache's Redis backplane).
/// </summary>
public sealed class ClusterPubSubTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Publish_ThroughOneNode_ReachesChannelPatternAndShardSubscribersOnEveryNode_InOrder()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await cluster.WaitUntilAllSeeEachOtherAsync();
        using RawRespClient onSecond = cluster.Connect(1);
        using RawRespClient onThird = cluster.Connect(2);
        using RawRespClient resp3OnFirst = cluster.Connect(0);
        using RawRespClient publisher = cluster.Connect(0);
        Assert.Equal("*[$\"subscribe\", $\"news\", :1]", onSecond.Call("SUBSCRIBE", "news").ToString());
        Assert.Equal("*[$\"psubscribe\", $\"n*\", :1]", onThird.Call("PSUBSCRIBE", "n*").ToString());
        Assert.Equal('%', resp3OnFirst.Call("HELLO", "3").Type);
        Assert.Equal(">[$\"subscribe\", $\"news\", :1]", resp3OnFirst.Call("SUBSCRIBE", "news").ToString());

        const int Messages = 200;
        for (int i = 0; i < Messages; i++)
        {
            // PUBLISH counts the subscribers of the node it ran on, as a Redis Cluster node does.
            Assert.Equal(":1", publisher.Call("PUBLISH", "news", $"m{i}").ToString());
        }

        for (int i = 0; i < Messages; i++)
        {
            Assert.Equal($"*[$\"message\", $\"news\", $\"m{i}\"]", onSecond.Read().ToString());
            Assert.Equal($"*[$\"pmessage\", $\"n*\", $\"news\", $\"m{i}\"]", onThird.Read().ToString());
            Assert.Equal($">[$\"message\", $\"news\", $\"m{i}\"]", resp3OnFirst.Read().ToString());
        }

        // Shard channels: subscribed through one node, published through another.
        Assert.Equal("*[$\"ssubscribe\", $\"{user:1}:events\", :1]", onSecond.Call("SSUBSCRIBE", "{user:1}:events").ToString());
        Assert.Equal(":0", publisher.Call("SPUBLISH", "{user:1}:events", "login").ToString());
        Assert.Equal("*[$\"smessage\", $\"{user:1}:events\", $\"login\"]", onSecond.Read().ToString());
        Assert.StartsWith("-CROSSSLOT", onThird.Call("SSUBSCRIBE", "{a}x", "{b}y").ToString(), StringComparison.Ordinal);
        using RawRespClient inspector = cluster.Connect(1);
        Assert.Equal("*[$\"news\"]", inspector.Call("PUBSUB", "CHANNELS").ToString());
    }

    [Fact]
    public async Task StackExchangeRedis_InClusterMode_SubscribesOnOneNodeAndReceivesWhatAnotherNodePublishes()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await cluster.WaitUntilAllSeeEachOtherAsync();
        ConnectionMultiplexer subscriberSide = await ConnectionMultiplexer.ConnectAsync(Options(cluster[0].Port, cluster[1].Port, cluster[2].Port));
        ConnectionMultiplexer publisherSide = await ConnectionMultiplexer.ConnectAsync(Options(cluster[2].Port));
        try
        {
            var received = new ConcurrentQueue<string>();
            var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            const int Messages = 100;
            // A message queue, not a handler: SE.Redis runs handlers concurrently, a queue in arrival order.
            ChannelMessageQueue queue = await subscriberSide.GetSubscriber().SubscribeAsync(RedisChannel.Literal("orders"));
            queue.OnMessage(message =>
            {
                received.Enqueue(message.Message!);
                if (received.Count == Messages)
                {
                    all.TrySetResult();
                }
            });
            ISubscriber publisher = publisherSide.GetSubscriber();
            for (int i = 0; i < Messages; i++)
            {
                await publisher.PublishAsync(RedisChannel.Literal("orders"), $"order-{i}");
            }

            await all.Task.WaitAsync(TimeSpan.FromSeconds(15));
            // Every message once. (Not in order: in cluster mode the client sends each PUBLISH to any node, and messages
            // published through different nodes are not ordered with each other, as in Redis Cluster.)
            Assert.Equal(Enumerable.Range(0, Messages).Select(i => $"order-{i}").Order(), received.Order());
        }
        finally
        {
            await Task.Run(subscriberSide.Dispose);
            await Task.Run(publisherSide.Dispose);
        }
    }

    [Fact]
    public async Task FusionCacheBackplane_AChangeOnOneInstance_ReachesAnInstanceOnAnotherNodeWithinASecond()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await cluster.WaitUntilAllSeeEachOtherAsync();
        using FusionCache first = CacheWithBackplane(cluster[0].Port);
        using FusionCache second = CacheWithBackplane(cluster[1].Port);
        await first.SetAsync("price:9", 100, TimeSpan.FromMinutes(5));
        // The second instance now holds 100 in its own memory (its first level).
        Assert.Equal(100, await second.GetOrDefaultAsync<int>("price:9"));

        // Let both backplane subscriptions settle before the change they must carry.
        await Task.Delay(500);
        await first.SetAsync("price:9", 250, TimeSpan.FromMinutes(5));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        int seen;
        while ((seen = await second.GetOrDefaultAsync<int>("price:9")) != 250 && waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(20);
        }

        // Without the backplane the second instance would serve 100 from its memory for the entry's 5 minutes.
        Assert.Equal(250, seen);
        output.WriteLine($"the change reached the other instance in {waited.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task KeyspaceNotifications_OfChangesMadeThroughAnyNode_ReachASubscriberOnAnotherNodeOnce()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await cluster.WaitUntilAllSeeEachOtherAsync();
        for (int i = 0; i < 3; i++)
        {
            // CONFIG SET is per node, as in Redis Cluster: announcing every change needs it on every node.
            using RawRespClient node = cluster.Connect(i);
            Assert.Equal("+OK", node.Call("CONFIG", "SET", "notify-keyspace-events", "KEA").ToString());
            Assert.Equal("*[$\"notify-keyspace-events\", $\"AKE\"]", node.Call("CONFIG", "GET", "notify-keyspace-events").ToString());
        }

        using RawRespClient subscriber = cluster.Connect(1);
        Assert.Equal("*[$\"psubscribe\", $\"__keyspace@0__:app:*\", :1]", subscriber.Call("PSUBSCRIBE", "__keyspace@0__:app:*").ToString());
        using RawRespClient first = cluster.Connect(0);
        using RawRespClient third = cluster.Connect(2);
        first.Call("SET", "app:a", "1");
        third.Call("HSET", "app:h", "f", "v");
        first.Call("SADD", "app:s", "m");
        // Again through the same node, which has the member: SADD answers 0. (Through another node it could still
        // answer 1 before the first SADD's replica write reaches it, and would then announce the add it reports.)
        first.Call("SADD", "app:s", "m");
        first.Call("DEL", "app:a", "app:missing");
        first.Call("EXPIRE", "app:h", "100");

        // The SADD of a member already there changed nothing and is not announced; DEL announces what it named.
        string[] expected = ["app:a set", "app:h hset", "app:s sadd", "app:a del", "app:missing del", "app:h expire"];
        var seen = new List<string>();
        foreach (string _ in expected)
        {
            RespValue message = subscriber.Read();
            seen.Add(message.Items![2].Text!["__keyspace@0__:".Length..] + " " + message.Items[3].Text);
        }

        Assert.Equal(expected.Order(), seen.Order());
        using RawRespClient quiet = cluster.Connect(1);
        Assert.Equal(":1", quiet.Call("PUBLISH", "__keyspace@0__:app:end", "marker").ToString());
        Assert.Equal("app:end marker", subscriber.Read() is { } end ? end.Items![2].Text!["__keyspace@0__:".Length..] + " " + end.Items[3].Text : "");
    }

    [Fact]
    public async Task NewAndExpiredKeyEvents_ReachASubscriberOnAnotherNodeOnce()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await cluster.WaitUntilAllSeeEachOtherAsync();
        for (int i = 0; i < 3; i++)
        {
            // Every replica sweeps its own copy of an expired key and announces it to its own subscribers, with its own setting.
            using RawRespClient node = cluster.Connect(i);
            Assert.Equal("+OK", node.Call("CONFIG", "SET", "notify-keyspace-events", "Exn").ToString());
        }

        using RawRespClient subscriber = cluster.Connect(2);
        Assert.Equal("*[$\"subscribe\", $\"__keyevent@0__:new\", :1]", subscriber.Call("SUBSCRIBE", "__keyevent@0__:new", "__keyevent@0__:expired").ToString());
        Assert.Equal("*[$\"subscribe\", $\"__keyevent@0__:expired\", :2]", subscriber.Read().ToString());
        using RawRespClient writer = cluster.Connect(0);
        const int Keys = 20;

        // Two seconds to live: long enough that the second write of ttl:0 lands while it exists even on a loaded machine
        // (with 300 ms, a CI run once took longer than that over the 21 writes, and the rewrite was a new key).
        for (int i = 0; i < Keys; i++)
        {
            Assert.Equal("+OK", writer.Call("SET", $"ttl:{i}", "v", "PX", "2000").ToString());
        }

        // Written again while it exists: not new.
        Assert.Equal("+OK", writer.Call("SET", "ttl:0", "w", "PX", "2000").ToString());
        var seen = new List<string>();
        for (int i = 0; i < 2 * Keys; i++)
        {
            RespValue message = subscriber.Read();
            seen.Add(message.Items![1].Text!["__keyevent@0__:".Length..] + " " + message.Items[2].Text);
        }

        string[] expected = [.. Enumerable.Range(0, Keys).SelectMany(i => new[] { $"new ttl:{i}", $"expired ttl:{i}" })];
        Assert.Equal(expected.Order(), seen.Order());
        // Nothing more comes (no replica announces an expiry twice): the next message is a marker published after a pause.
        await Task.Delay(1000);
        using RawRespClient sameNode = cluster.Connect(2);
        Assert.Equal(":1", sameNode.Call("PUBLISH", "__keyevent@0__:new", "marker").ToString());
        Assert.Equal("marker", subscriber.Read().Items![2].Text);
    }

    private static FusionCache CacheWithBackplane(int port)
    {
        var cache = new FusionCache(new FusionCacheOptions { CacheName = "app" });
        cache.SetupDistributedCache(RealClients.DistributedCaches.For(port), new FusionCacheSystemTextJsonSerializer());
        cache.SetupBackplane(new RedisBackplane(new RedisBackplaneOptions { ConfigurationOptions = Options(port) }));
        return cache;
    }

    private static ConfigurationOptions Options(params int[] ports)
    {
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = true,
            ConnectTimeout = 15000,
            SyncTimeout = 15000,
            AsyncTimeout = 15000,
            ConfigurationChannel = "",
        };
        foreach (int port in ports)
        {
            options.EndPoints.Add("127.0.0.1", port);
        }

        return options;
    }
}
