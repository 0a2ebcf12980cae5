using System.Diagnostics;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Cluster;

/// <summary>
/// Lists on three real nodes (N=3): items are elements named by positions that sort in list order on every replica, so
/// concurrent pushes through every node all stay and every node reads the same order (docs/DATA-TYPES.md, "Lists").
/// </summary>
public sealed class ClusterListTests
{
    [Fact]
    public async Task ConcurrentPushes_ThroughEveryNode_AllStay_InOneOrderEverywhere()
    {
        const int perClient = 100;
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        Task[] clients = [.. Enumerable.Range(0, 6).Select(c => Task.Run(() =>
        {
            using RawRespClient client = cluster.Connect(c % 3);
            for (int i = 0; i < perClient; i++)
            {
                RespValue reply = client.Call(c % 2 == 0 ? "LPUSH" : "RPUSH", "feed", $"c{c}-{i}");
                Assert.False(reply.IsError, reply.ToString());
            }
        }))];
        await Task.WhenAll(clients);

        string? first = null;
        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal($":{6 * perClient}", client.Call("LLEN", "feed").ToString());
            RespValue items = client.Call("LRANGE", "feed", "0", "-1");
            Assert.Equal(6 * perClient, items.Items!.Count);
            string order = items.ToString();
            first ??= order;
            Assert.Equal(first, order);

            // Each client's pushes keep their own order: an LPUSHer's items read newest first, an RPUSHer's oldest first.
            var texts = items.Items.Select(item => item.Text!).ToList();
            for (int c = 0; c < 6; c++)
            {
                var mine = texts.Where(t => t.StartsWith($"c{c}-", StringComparison.Ordinal)).ToList();
                var expected = Enumerable.Range(0, perClient).Select(n => $"c{c}-{n}").ToList();
                if (c % 2 == 0)
                {
                    expected.Reverse();
                }

                Assert.Equal(expected, mine);
            }
        }
    }

    [Fact]
    public async Task ListCommands_ThroughEveryNode_ReadWhatAnyNodeWrote()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(extraArguments: ["--w", "3"]);
        using RawRespClient node1 = cluster.Connect(0);
        using RawRespClient node2 = cluster.Connect(1);
        using RawRespClient node3 = cluster.Connect(2);

        Assert.Equal(":3", node1.Call("RPUSH", "l", "a", "b", "c").ToString());
        Assert.Equal(":4", node2.Call("LINSERT", "l", "BEFORE", "c", "x").ToString());
        Assert.Equal("+OK", node3.Call("LSET", "l", "0", "A").ToString());
        Assert.Equal("$\"c\"", node1.Call("LMOVE", "l", "other", "RIGHT", "LEFT").ToString());
        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal("*[$\"A\", $\"b\", $\"x\"]", client.Call("LRANGE", "l", "0", "-1").ToString());
            Assert.Equal("*[$\"c\"]", client.Call("LRANGE", "other", "0", "-1").ToString());
            Assert.Equal("+list", client.Call("TYPE", "l").ToString());
        }

        Assert.Equal(":1", node2.Call("LREM", "l", "0", "b").ToString());
        Assert.Equal("$\"A\"", node3.Call("LPOP", "l").ToString());
        Assert.Equal("+OK", node1.Call("RENAME", "l", "renamed").ToString());
        Assert.Equal("*[$\"x\"]", node2.Call("LRANGE", "renamed", "0", "-1").ToString());
        Assert.Equal(":0", node3.Call("EXISTS", "l").ToString());
    }

    [Fact]
    public async Task BlockedListPop_OnOneNode_WakesOnAPushThroughAnother()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using RawRespClient blocked = cluster.Connect(2);
        using RawRespClient writer = cluster.Connect(0);
        using RawRespClient observer = cluster.Connect(2);

        blocked.Send("BLPOP", "jobs", "10");
        var waited = Stopwatch.StartNew();
        while (!observer.Call("INFO", "clients").Text!.Contains("blocked_clients:1\r\n", StringComparison.Ordinal))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "the client never blocked");
            Thread.Sleep(20);
        }

        Assert.Equal(":1", writer.Call("RPUSH", "jobs", "job-1").ToString());
        var woken = Stopwatch.StartNew();
        Assert.Equal("*[$\"jobs\", $\"job-1\"]", blocked.Read().ToString());
        Assert.True(woken.Elapsed < TimeSpan.FromSeconds(8), $"woke after {woken.Elapsed}, near the timeout rather than on the push");
    }
}
