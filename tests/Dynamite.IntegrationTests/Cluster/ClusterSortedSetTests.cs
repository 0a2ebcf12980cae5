using System.Diagnostics;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Cluster;

/// <summary>
/// Sorted sets on three real nodes (N=3): members are an observed-remove set, a score a last-writer-wins register, and a
/// ZINCRBY a counter write, so concurrent increments through every node all count (docs/DATA-TYPES.md, "Sorted sets").
/// A client blocked on one node wakes when a write coordinated by another reaches its replica.
/// </summary>
public sealed class ClusterSortedSetTests
{
    /// <summary>Every write on all three replicas before its reply: a write through another node sees it.</summary>
    private static readonly string[] WriteAll = ["--w", "3"];

    [Fact]
    public async Task ConcurrentZIncrBy_ThroughEveryNode_SumExactly()
    {
        const int perClient = 120;
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        Task[] clients = [.. Enumerable.Range(0, 6).Select(c => Task.Run(() =>
        {
            using RawRespClient client = cluster.Connect(c % 3);
            for (int i = 0; i < perClient; i++)
            {
                // Two members, so a member's increments race with the other's on the same key.
                RespValue reply = client.Call("ZINCRBY", "board", c % 2 == 0 ? "1" : "0.5", c % 2 == 0 ? "ada" : "bob");
                Assert.False(reply.IsError, reply.ToString());
            }
        }))];
        await Task.WhenAll(clients);

        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal("$\"360\"", client.Call("ZSCORE", "board", "ada").ToString());
            Assert.Equal("$\"180\"", client.Call("ZSCORE", "board", "bob").ToString());
            Assert.Equal("*[$\"ada\", $\"360\", $\"bob\", $\"180\"]", client.Call("ZREVRANGE", "board", "0", "-1", "WITHSCORES").ToString());
        }

        // A ZADD replaces the counted score on every replica; increments after it count from there.
        using RawRespClient node2 = cluster.Connect(1);
        Assert.Equal(":0", node2.Call("ZADD", "board", "10", "ada").ToString());
        Assert.Equal("$\"12\"", node2.Call("ZINCRBY", "board", "2", "ada").ToString());
        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal("$\"12\"", client.Call("ZSCORE", "board", "ada").ToString());
        }
    }

    [Fact]
    public async Task RangeWindows_OfALargeSet_AnswerAsTheWholeSetDoes_ThroughEveryNode()
    {
        // ZREVRANGE 0 9 and BYSCORE ranges with a LIMIT read a window of each primary's score index, then those members
        // by name (docs/DATA-TYPES.md, "The score index"); ZRANGE 0 -1 reads every member. Both must agree.
        await using LocalCluster cluster = await LocalCluster.StartAsync(extraArguments: WriteAll);
        using RawRespClient node1 = cluster.Connect(0);
        using RawRespClient node2 = cluster.Connect(1);
        for (int chunk = 0; chunk < 6; chunk++)
        {
            var arguments = new List<string> { "ZADD", "board" };
            for (int i = chunk * 100; i < (chunk + 1) * 100; i++)
            {
                arguments.Add((i % 50).ToString(System.Globalization.CultureInfo.InvariantCulture));
                arguments.Add($"player:{i:D4}");
            }

            Assert.Equal(":100", node1.Call([.. arguments]).ToString());
        }

        Assert.Equal("$\"100.5\"", node2.Call("ZINCRBY", "board", "51.5", "player:0049").ToString());
        Assert.Equal("$\"-1\"", node2.Call("ZINCRBY", "board", "-1", "player:0100").ToString());
        Assert.Equal(":1", node2.Call("ZREM", "board", "player:0099").ToString());

        RespValue whole = node1.Call("ZRANGE", "board", "0", "-1", "WITHSCORES");
        var members = new List<(string Member, double Score)>();
        for (int i = 0; i < whole.Items!.Count; i += 2)
        {
            members.Add((whole.Items[i].Text!, double.Parse(whole.Items[i + 1].Text!, System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.Equal(599, members.Count);
        for (int node = 0; node < 3; node++)
        {
            using RawRespClient client = cluster.Connect(node);
            Assert.Equal(Pairs(Enumerable.Reverse(members).Take(10)), client.Call("ZREVRANGE", "board", "0", "9", "WITHSCORES").ToString());
            Assert.Equal(Names(members.Skip(5).Take(20)), client.Call("ZRANGE", "board", "5", "24").ToString());
            Assert.Equal(
                Pairs(members.Where(m => m.Score >= 10 && m.Score < 20).Skip(3).Take(30)),
                client.Call("ZRANGEBYSCORE", "board", "10", "(20", "WITHSCORES", "LIMIT", "3", "30").ToString());
            Assert.Equal(
                Names(Enumerable.Reverse(members).Where(m => m.Score <= 40).Take(15)),
                client.Call("ZREVRANGEBYSCORE", "board", "40", "-inf", "LIMIT", "0", "15").ToString());
            Assert.Equal(
                Names(members.Where(m => m.Score > 30).Skip(2).Take(5)),
                client.Call("ZRANGE", "board", "(30", "+inf", "BYSCORE", "LIMIT", "2", "5").ToString());
        }

        static string Names(IEnumerable<(string Member, double Score)> selected) =>
            "*[" + string.Join(", ", selected.Select(m => $"$\"{m.Member}\"")) + "]";

        static string Pairs(IEnumerable<(string Member, double Score)> selected) =>
            "*[" + string.Join(", ", selected.Select(m => $"$\"{m.Member}\", $\"{m.Score.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}\"")) + "]";
    }

    [Fact]
    public async Task RangeWindows_ThroughAStaleReplica_SeeTheWritesItMissed()
    {
        // n3 misses writes that move members in and out of the top (no hints, no read repair, no anti-entropy to catch it
        // up): its index window and another primary's name different members, so the range reads them by name and joins.
        string[] isolated = ["--hinted-handoff", "off", "--read-repair", "off", "--aae", "off"];
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb", extraArguments: isolated);
        using (RawRespClient node1 = cluster.Connect(0))
        {
            var arguments = new List<string> { "ZADD", "board" };
            for (int i = 0; i < 100; i++)
            {
                arguments.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                arguments.Add($"m{i:D2}");
            }

            Assert.Equal(":100", node1.Call([.. arguments]).ToString());
        }

        // The third replica's copy (one delta, so all of it or nothing) before it goes.
        using (RawRespClient third = cluster.Connect(2))
        {
            for (DateTime until = DateTime.UtcNow + TimeSpan.FromSeconds(10); third.Call("DBSIZE").ToString() != ":1" && DateTime.UtcNow < until;)
            {
                await Task.Delay(50);
            }

            Assert.Equal(":1", third.Call("DBSIZE").ToString());
        }

        await cluster.KillAsync(2);
        using (RawRespClient node1 = cluster.Connect(0))
        {
            Assert.Equal(":1", node1.Call("ZADD", "board", "1000", "new-top").ToString());
            Assert.Equal("$\"505\"", node1.Call("ZINCRBY", "board", "500", "m05").ToString());
            Assert.Equal(":1", node1.Call("ZREM", "board", "m99").ToString());
            Assert.Equal(":0", node1.Call("ZADD", "board", "-5", "m98").ToString());
        }

        await cluster.RestartAsync(2);
        await cluster.WaitUntilAllSeeEachOtherAsync();
        using RawRespClient node3 = cluster.Connect(2);
        Assert.Equal(
            "*[$\"new-top\", $\"1000\", $\"m05\", $\"505\", $\"m97\", $\"97\", $\"m96\", $\"96\"]",
            node3.Call("ZREVRANGE", "board", "0", "3", "WITHSCORES").ToString());
        Assert.Equal("*[$\"m98\", $\"m00\", $\"m01\"]", node3.Call("ZRANGE", "board", "0", "2").ToString());
        Assert.Equal("*[$\"m96\", $\"m97\", $\"m05\"]", node3.Call("ZRANGEBYSCORE", "board", "96", "(1000", "LIMIT", "0", "3").ToString());
    }

    [Fact]
    public async Task SortedSetCommands_ThroughEveryNode_ReadWhatAnyNodeWrote()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(extraArguments: WriteAll);
        using RawRespClient node1 = cluster.Connect(0);
        using RawRespClient node2 = cluster.Connect(1);
        using RawRespClient node3 = cluster.Connect(2);

        Assert.Equal(":3", node1.Call("ZADD", "z", "1", "a", "2", "b", "3", "c").ToString());
        Assert.Equal(":1", node2.Call("ZADD", "z", "XX", "CH", "5", "a", "9", "nobody").ToString());
        Assert.Equal(":1", node3.Call("ZREM", "z", "b", "none").ToString());
        Assert.Equal(":1", node3.Call("ZADD", "z", "4", "d").ToString());
        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal("*[$\"c\", $\"d\", $\"a\"]", client.Call("ZRANGE", "z", "0", "-1").ToString());
            Assert.Equal("*[$\"a\", $\"d\"]", client.Call("ZRANGE", "z", "+inf", "(3", "BYSCORE", "REV").ToString());
            Assert.Equal(":3", client.Call("ZCARD", "z").ToString());
            Assert.Equal(":2", client.Call("ZRANK", "z", "a").ToString());
            Assert.Equal(":2", client.Call("ZCOUNT", "z", "3", "4").ToString());
        }

        Assert.Equal("*[$\"c\", $\"3\"]", node1.Call("ZPOPMIN", "z").ToString());
        Assert.Equal(":2", node2.Call("ZUNIONSTORE", "u", "2", "z", "z", "WEIGHTS", "1", "2").ToString());
        Assert.Equal("*[$\"d\", $\"12\", $\"a\", $\"15\"]", node3.Call("ZRANGE", "u", "0", "-1", "WITHSCORES").ToString());
        Assert.Equal(":2", node3.Call("ZREMRANGEBYSCORE", "z", "-inf", "+inf").ToString());
        Assert.Equal(":0", node1.Call("EXISTS", "z").ToString());
        Assert.Equal("+zset", node1.Call("TYPE", "u").ToString());

        Assert.Equal("+OK", node1.Call("SET", "plain", "v").ToString());
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value", node2.Call("ZADD", "plain", "1", "m").ToString());
        Assert.Equal("$\"v\"", node3.Call("GET", "plain").ToString());
    }

    [Fact]
    public async Task BlockedPop_OnOneNode_WakesOnAWriteThroughAnother()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using RawRespClient blocked = cluster.Connect(1);
        using RawRespClient writer = cluster.Connect(0);
        using RawRespClient observer = cluster.Connect(1);

        blocked.Send("BZPOPMIN", "queue", "10");
        WaitForBlockedClients(observer, 1);
        Assert.Equal(":1", writer.Call("ZADD", "queue", "7", "job").ToString());

        var woken = Stopwatch.StartNew();
        Assert.Equal("*[$\"queue\", $\"job\", $\"7\"]", blocked.Read().ToString());
        Assert.True(woken.Elapsed < TimeSpan.FromSeconds(8), $"woke after {woken.Elapsed}, near the timeout rather than on the write");
        WaitForBlockedClients(observer, 0);
        Assert.Equal(":0", observer.Call("ZCARD", "queue").ToString());

        // Nothing to pop: the timeout answers a null array.
        Assert.Equal("*(nil)", blocked.Call("BZPOPMIN", "queue", "0.2").ToString());
    }

    private static void WaitForBlockedClients(RawRespClient client, int expected)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            string info = client.Call("INFO", "clients").Text!;
            if (info.Contains($"blocked_clients:{expected}\r\n", StringComparison.Ordinal))
            {
                return;
            }

            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"blocked_clients never became {expected}: {info}");
            Thread.Sleep(20);
        }
    }
}
