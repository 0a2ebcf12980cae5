using System.Globalization;
using Dynamite.IntegrationTests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace Dynamite.IntegrationTests.Cluster;

/// <summary>
/// Cluster-aware clients, unchanged, on a real 3-node cluster: they read CLUSTER NODES or SLOTS and send each command
/// to the first primary of its key's slot, so a uniform key workload spreads over the three nodes, with no MOVED.
/// </summary>
public sealed class ClusterAwareClientTests(ITestOutputHelper output)
{
    private const string Python = "/usr/bin/python3";
    private const int Keys = 3000;

    [Fact]
    public async Task StackExchangeRedis_WithThreeEndpoints_SpreadsAUniformWorkloadOverEveryNode()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await WaitUntilEveryNodeIsAnnouncedAsync(cluster, 3);
        long[] before = [.. Enumerable.Range(0, 3).Select(i => CommandsProcessed(cluster, i))];
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = true,
            ConnectTimeout = 15000,
            SyncTimeout = 15000,
            AsyncTimeout = 15000,
            ConfigurationChannel = "",
        };
        for (int i = 0; i < 3; i++)
        {
            options.EndPoints.Add("127.0.0.1", cluster[i].Port);
        }

        ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(options);
        try
        {
            Assert.Equal(ServerType.Cluster, redis.GetServer(redis.GetEndPoints()[0]).ServerType);
            IDatabase db = redis.GetDatabase();
            await Task.WhenAll(Enumerable.Range(0, Keys).Select(i => db.StringSetAsync($"spread:{i}", i)));
            for (int i = 0; i < Keys; i += 97)
            {
                Assert.Equal(i, (int)await db.StringGetAsync($"spread:{i}"));
            }

            // A transaction of keys sharing a tag goes to one node, as Redis Cluster requires.
            ITransaction transaction = db.CreateTransaction();
            _ = transaction.StringSetAsync("{cart:7}:items", "3");
            _ = transaction.StringIncrementAsync("{cart:7}:version");
            Assert.True(await transaction.ExecuteAsync());
            Assert.Equal("3", (string?)await db.StringGetAsync("{cart:7}:items"));
        }
        finally
        {
            await Task.Run(redis.Dispose);
        }

        long[] served = [.. Enumerable.Range(0, 3).Select(i => CommandsProcessed(cluster, i) - before[i])];
        long total = served.Sum();
        output.WriteLine($"commands served per node: {string.Join(" / ", served)} ({string.Join(" / ", served.Select(c => ((double)c / total).ToString("P1", CultureInfo.InvariantCulture)))})");
        foreach (long count in served)
        {
            double share = (double)count / total;
            Assert.True(share is >= 0.25 and <= 0.42, $"per-node commands {string.Join("/", served)}: a share of {share:P0}");
        }
    }

    [Fact]
    public async Task RedisPyRedisCluster_WithPipelinesAndPubSub_AndRedisCliInClusterMode_WorkThroughAnyNode()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await WaitUntilEveryNodeIsAnnouncedAsync(cluster, 3);
        string script = """
            import sys
            from redis.cluster import RedisCluster
            rc = RedisCluster(host="127.0.0.1", port=int(sys.argv[1]), decode_responses=True)
            for i in range(300):
                rc.set(f"py:{i}", str(i))
            assert all(rc.get(f"py:{i}") == str(i) for i in range(300))
            pipe = rc.pipeline()
            for i in range(50):
                pipe.incr(f"pycount:{i}")
            assert pipe.execute() == [1] * 50
            nodes = {n.name for n in rc.get_nodes()}
            assert len(nodes) == 3, nodes
            # Pub/sub: RedisCluster's pubsub subscribes through the node of the channel's slot; publish through any.
            pubsub = rc.pubsub()
            pubsub.subscribe("py-news")
            assert pubsub.get_message(timeout=5)["type"] == "subscribe"
            for i in range(20):
                rc.publish("py-news", f"m{i}")
            got = []
            while len(got) < 20:
                message = pubsub.get_message(timeout=5)
                assert message is not None, got
                got.append(message["data"])
            assert sorted(got) == sorted(f"m{i}" for i in range(20)), got
            pubsub.close()
            print("OK", len(nodes))
            """;
        string path = Path.Combine(Path.GetTempPath(), $"redis-cluster-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(path, script);
        try
        {
            ExternalTool.Result python = await ExternalTool.RunAsync(Python, [path, cluster[1].Port.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(2));
            Assert.True(python.ExitCode == 0 && python.StandardOutput.Contains("OK 3", StringComparison.Ordinal), python.ToString());
        }
        finally
        {
            File.Delete(path);
        }

        ExternalTool.Result cli = await ExternalTool.RunAsync(
            "redis-cli", ["-c", "-p", cluster[2].Port.ToString(CultureInfo.InvariantCulture), "GET", "py:42"], TimeSpan.FromSeconds(30));
        Assert.Equal("42", cli.StandardOutput.Trim());
        using RawRespClient node = cluster.Connect(0);
        RespValue slots = node.Call("CLUSTER", "SLOTS");
        Assert.Equal(16384, slots.Items!.Sum(r => int.Parse(r.Items![1].Text!, CultureInfo.InvariantCulture) - int.Parse(r.Items[0].Text!, CultureInfo.InvariantCulture) + 1));
        // By default a range lists its master only: every node is a master, one role per node, as clients expect.
        Assert.All(slots.Items!, r => Assert.Equal(3, r.Items!.Count));
        Assert.Equal("$\"n1\"", node.Call("CLUSTER", "MYID").ToString());
        Assert.Equal("+OK", node.Call("READONLY").ToString());
    }

    [Fact]
    public async Task ClusterSlots_ListReplicasWhenAsked_AndADownNodesRangesGoToTheNextPrimary()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(extraArguments: ["--cluster-announce-replicas", "on"]);
        await WaitUntilEveryNodeIsAnnouncedAsync(cluster, 3);
        using (RawRespClient node = cluster.Connect(0))
        {
            RespValue slots = node.Call("CLUSTER", "SLOTS");
            // First and last slot, then the master and its two replicas, all three nodes.
            Assert.All(slots.Items!, r => Assert.Equal(["n1", "n2", "n3"], r.Items!.Skip(2).Select(n => n.Items![2].Text!).Order()));
            Assert.Contains(slots.Items!, r => r.Items![2].Items![2].Text == "n3");
        }

        await cluster.KillAsync(2);
        string[] masters = [];
        for (DateTime until = DateTime.UtcNow + TimeSpan.FromSeconds(60); DateTime.UtcNow < until; await Task.Delay(500))
        {
            using RawRespClient node = cluster.Connect(0);
            masters = [.. node.Call("CLUSTER", "SLOTS").Items!.Select(r => r.Items![2].Items![2].Text!).Distinct().Order()];
            if (!masters.Contains("n3"))
            {
                break;
            }
        }

        // Once node 1 holds n3 down, n3's ranges have the next primary as their master, n3 listed after it.
        Assert.Equal(["n1", "n2"], masters);
        using RawRespClient survivor = cluster.Connect(0);
        Assert.All(survivor.Call("CLUSTER", "SLOTS").Items!, r => Assert.Equal(5, r.Items!.Count));
        Assert.Contains(survivor.Call("CLUSTER", "NODES").Text!.Split('\n'), l => l.StartsWith("n3 ", StringComparison.Ordinal) && l.Contains("master,fail", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClusterNodes_FollowTheRing_AFourthNodeShowsUpWithItsSlotsOnceItJoins()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(count: 3, spares: 1);
        for (int i = 0; i < 3; i++)
        {
            // The founders' records carry the client addresses the handshake told: every node is listed at once.
            using RawRespClient node = cluster.Connect(i);
            Assert.Equal(3, NodeLines(node).Length);
        }

        await cluster.StartSpareAsync(3);
        string[] lines = [];
        for (DateTime until = DateTime.UtcNow + TimeSpan.FromSeconds(90); DateTime.UtcNow < until; await Task.Delay(500))
        {
            using RawRespClient node = cluster.Connect(0);
            lines = NodeLines(node);
            // "<id> <host:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slots...>": n4 with slots of its own.
            if (lines.Length == 4 && lines.Any(l => l.StartsWith("n4 ", StringComparison.Ordinal) && l.Split(' ').Length > 8))
            {
                break;
            }
        }

        Assert.Equal(4, lines.Length);
        Assert.Contains(lines, l => l.StartsWith($"n4 127.0.0.1:{cluster[3].Port}@0 master - ", StringComparison.Ordinal) && l.Split(' ').Length > 8);
        Assert.Single(lines, l => l.Contains("myself,master", StringComparison.Ordinal));
    }

    /// <summary>
    /// Every node lists every node: a founder's record carries the client address its handshake told, and a node that
    /// joins announces its own (this waits only in case a state from before that arrives first).
    /// </summary>
    private static async Task WaitUntilEveryNodeIsAnnouncedAsync(LocalCluster cluster, int nodes)
    {
        for (DateTime until = DateTime.UtcNow + TimeSpan.FromSeconds(30); ; await Task.Delay(200))
        {
            bool all = true;
            for (int i = 0; i < nodes; i++)
            {
                using RawRespClient node = cluster.Connect(i);
                all &= NodeLines(node).Length == nodes;
            }

            if (all)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < until, "the nodes never announced their client addresses to each other");
        }
    }

    private static string[] NodeLines(RawRespClient node) =>
        node.Call("CLUSTER", "NODES").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task IoredisCluster_SendsCommandsPipelinesATaggedTransactionAndPubSub_ThroughEveryNode()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await WaitUntilEveryNodeIsAnnouncedAsync(cluster, 3);
        string directory = Path.Combine(RepositoryPaths.Root, "tests", "Dynamite.IntegrationTests", "Node");
        Assert.True(Directory.Exists(Path.Combine(directory, "node_modules", "ioredis")), "ioredis is not installed: scripts/test.sh runs npm ci in " + directory);
        ExternalTool.Result result = await ExternalTool.RunAsync(
            "node", [Path.Combine(directory, "ioredis_cluster_check.js"), cluster[2].Port.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0 && result.StandardOutput.Contains("OK 3", StringComparison.Ordinal), result.ToString());
    }

    private static long CommandsProcessed(LocalCluster cluster, int index)
    {
        using RawRespClient client = cluster.Connect(index);
        string stats = client.Call("INFO", "stats").Text!;
        string line = stats.Split("\r\n").Single(l => l.StartsWith("total_commands_processed:", StringComparison.Ordinal));
        return long.Parse(line["total_commands_processed:".Length..], CultureInfo.InvariantCulture);
    }
}
