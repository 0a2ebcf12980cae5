using System.Globalization;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Cluster;

/// <summary>
/// Hashes and sets on three real nodes (N=3): every command of one key runs through whichever node the client uses, as
/// a delta built on that node (a primary of every key here) and quorum reads of the joined replicas (docs/DATA-TYPES.md).
/// A write's reply comes from its coordinator's state, so the tests that check replies of writes through different
/// nodes run at W=3 (each write is on every replica once acknowledged); concurrent increments at the default W=2 all
/// count. The commands over several keys are refused before anything runs.
/// </summary>
public sealed class ClusterTypedKeyTests
{
    /// <summary>Every write on all three replicas before its reply: a write through another node sees it.</summary>
    private static readonly string[] WriteAll = ["--w", "3"];

    [Fact]
    public async Task HashCommands_ThroughEveryNode_ReadWhatAnyNodeWrote()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(extraArguments: WriteAll);
        using RawRespClient node1 = cluster.Connect(0);
        using RawRespClient node2 = cluster.Connect(1);
        using RawRespClient node3 = cluster.Connect(2);

        Assert.Equal(":2", node1.Call("HSET", "user:1", "name", "ada", "lang", "en").ToString());
        Assert.Equal("+OK", node2.Call("HMSET", "user:1", "lang", "fr", "city", "paris").ToString());
        Assert.Equal(":0", node3.Call("HSETNX", "user:1", "name", "bob").ToString());
        Assert.Equal(":1", node3.Call("HSETNX", "user:1", "born", "1815").ToString());
        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal("$\"fr\"", client.Call("HGET", "user:1", "lang").ToString());
            Assert.Equal("*[$\"ada\", $(nil), $\"paris\"]", client.Call("HMGET", "user:1", "name", "none", "city").ToString());
            Assert.Equal(":4", client.Call("HLEN", "user:1").ToString());
            Assert.Equal("*[$\"born\", $\"1815\", $\"city\", $\"paris\", $\"lang\", $\"fr\", $\"name\", $\"ada\"]", client.Call("HGETALL", "user:1").ToString());
            Assert.Equal(":1", client.Call("HEXISTS", "user:1", "city").ToString());
            Assert.Equal(":5", client.Call("HSTRLEN", "user:1", "city").ToString());
        }

        Assert.Equal(":2", node2.Call("HDEL", "user:1", "city", "born", "none").ToString());
        Assert.Equal("*[$\"lang\", $\"name\"]", node3.Call("HKEYS", "user:1").ToString());
        Assert.Equal("*[$\"fr\", $\"ada\"]", node1.Call("HVALS", "user:1").ToString());
        Assert.Equal(":2", node1.Call("HDEL", "user:1", "lang", "name").ToString());
        Assert.Equal(":0", node2.Call("HLEN", "user:1").ToString());
        Assert.Equal("*[]", node3.Call("HGETALL", "user:1").ToString());

        Assert.Equal(":12", node1.Call("HINCRBY", "stats", "hits", "12").ToString());
        Assert.Equal(":7", node2.Call("HINCRBY", "stats", "hits", "-5").ToString());
        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal("$\"7\"", client.Call("HGET", "stats", "hits").ToString());
        }

        Assert.Equal("$\"0.5\"", node3.Call("HINCRBYFLOAT", "stats", "ratio", "0.5").ToString());
        Assert.Equal("$\"2.75\"", node3.Call("HINCRBYFLOAT", "stats", "ratio", "2.25").ToString());
        Assert.Equal("-ERR hash value is not an integer", node3.Call("HINCRBY", "stats", "ratio", "1").ToString());
        Assert.Equal("$\"2.75\"", node1.Call("HGET", "stats", "ratio").ToString());

        Assert.Equal("+OK", node1.Call("SET", "plain", "v").ToString());
        const string wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value";
        Assert.Equal(wrongType, node2.Call("HSET", "plain", "f", "v").ToString());
        Assert.Equal(wrongType, node3.Call("HGET", "plain", "f").ToString());
        Assert.Equal(wrongType, node1.Call("HINCRBY", "plain", "f", "1").ToString());
        Assert.Equal("$\"v\"", node2.Call("GET", "plain").ToString());
    }

    [Fact]
    public async Task HashScan_ThroughAnotherNode_WalksEveryFieldOnce()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using RawRespClient node1 = cluster.Connect(0);
        using RawRespClient node2 = cluster.Connect(1);
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 50; i++)
        {
            node1.Call("HSET", "big", $"f{i:D2}", $"v{i}");
            expected.Add($"f{i:D2}");
        }

        var seen = new List<string>();
        string cursor = "0";
        int calls = 0;
        do
        {
            RespValue reply = node2.Call("HSCAN", "big", cursor, "COUNT", "7");
            cursor = reply.Items![0].Text!;
            IReadOnlyList<RespValue> items = reply.Items[1].Items!;
            for (int i = 0; i < items.Count; i += 2)
            {
                seen.Add(items[i].Text!);
                Assert.Equal("v" + int.Parse(items[i].Text![1..], CultureInfo.InvariantCulture), items[i + 1].Text);
            }
        }
        while (cursor != "0" && ++calls < 100);

        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task ConcurrentHashIncrements_ThroughEveryNode_AllCount()
    {
        const int perClient = 150;
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        Task[] clients = [.. Enumerable.Range(0, 6).Select(c => Task.Run(() =>
        {
            using RawRespClient client = cluster.Connect(c % 3);
            for (int i = 0; i < perClient; i++)
            {
                RespValue reply = client.Call("HINCRBY", "counters", "views", "1");
                Assert.False(reply.IsError, reply.ToString());
            }
        }))];
        await Task.WhenAll(clients);

        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal($"$\"{6 * perClient}\"", client.Call("HGET", "counters", "views").ToString());
        }
    }

    [Fact]
    public async Task SetCommands_ThroughEveryNode_ReadWhatAnyNodeWrote()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(extraArguments: WriteAll);
        using RawRespClient node1 = cluster.Connect(0);
        using RawRespClient node2 = cluster.Connect(1);
        using RawRespClient node3 = cluster.Connect(2);

        Assert.Equal(":3", node1.Call("SADD", "tags", "a", "b", "c").ToString());
        Assert.Equal(":1", node2.Call("SADD", "tags", "c", "d").ToString());
        Assert.Equal(":1", node3.Call("SREM", "tags", "a", "z").ToString());
        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal("*[$\"b\", $\"c\", $\"d\"]", client.Call("SMEMBERS", "tags").ToString());
            Assert.Equal(":3", client.Call("SCARD", "tags").ToString());
            Assert.Equal(":1", client.Call("SISMEMBER", "tags", "d").ToString());
            Assert.Equal("*[:0, :1]", client.Call("SMISMEMBER", "tags", "a", "b").ToString());
        }

        RespValue popped = node1.Call("SPOP", "tags");
        Assert.Contains(popped.Text, new[] { "b", "c", "d" });
        Assert.Equal(":2", node2.Call("SCARD", "tags").ToString());
        Assert.Equal(":0", node3.Call("SISMEMBER", "tags", popped.Text!).ToString());
        RespValue random = node3.Call("SRANDMEMBER", "tags", "5");
        Assert.Equal(2, random.Items!.Count);

        // SMOVE and the STORE forms run as single-key steps: what they leave is read through the other nodes.
        RespValue[] kept = node1.Call("SMEMBERS", "tags").Items!.ToArray();
        string moved = kept[0].Text!;
        Assert.Equal(":1", node1.Call("SMOVE", "tags", "moved-to", moved).ToString());
        Assert.Equal(":0", node2.Call("SMOVE", "tags", "moved-to", moved).ToString());
        Assert.Equal(":0", node2.Call("SISMEMBER", "tags", moved).ToString());
        Assert.Equal(":1", node3.Call("SISMEMBER", "moved-to", moved).ToString());
        Assert.Equal(":0", node3.Call("SMOVE", "missing", "moved-to", moved).ToString());
        Assert.Equal("+OK", node1.Call("SET", "text", "v").ToString());
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value", node2.Call("SMOVE", "moved-to", "text", moved).ToString());
        Assert.Equal(":1", node3.Call("SISMEMBER", "moved-to", moved).ToString());
        Assert.Equal(":1", node2.Call("SUNIONSTORE", "copy", "tags").ToString());
        Assert.Equal(":1", node3.Call("SCARD", "copy").ToString());
        Assert.Equal(":2", node1.Call("SUNIONSTORE", "text", "tags", "moved-to").ToString());
        Assert.Equal("+set", node2.Call("TYPE", "text").ToString());
        Assert.Equal(":2", node3.Call("SCARD", "text").ToString());
        Assert.Equal(":0", node1.Call("SINTERSTORE", "text", "tags", "moved-to").ToString());
        Assert.Equal(":0", node2.Call("EXISTS", "text").ToString());
        Assert.Equal(":1", node3.Call("SDIFFSTORE", "copy", "moved-to", "tags").ToString());
        Assert.Equal([moved], node1.Call("SMEMBERS", "copy").Items!.Select(i => i.Text!));
        Assert.Equal(":1", node1.Call("SMOVE", "moved-to", "tags", moved).ToString());
        Assert.Equal(":2", node3.Call("SCARD", "tags").ToString());

        // The read forms over several keys read each key by quorum.
        Assert.Equal(":3", node1.Call("SADD", "other", "b", "c", "d").ToString());
        var left = node1.Call("SMEMBERS", "tags").Items!.Select(i => i.Text!).ToHashSet();
        var right = new HashSet<string> { "b", "c", "d" };
        Assert.Equal(left.Intersect(right).Order(StringComparer.Ordinal), node2.Call("SINTER", "tags", "other").Items!.Select(i => i.Text!).Order(StringComparer.Ordinal));
        Assert.Equal(left.Union(right).Order(StringComparer.Ordinal), node3.Call("SUNION", "tags", "other", "missing").Items!.Select(i => i.Text!).Order(StringComparer.Ordinal));
        Assert.Equal(right.Except(left).Order(StringComparer.Ordinal), node1.Call("SDIFF", "other", "tags").Items!.Select(i => i.Text!).Order(StringComparer.Ordinal));
        Assert.Equal($":{left.Intersect(right).Count()}", node2.Call("SINTERCARD", "2", "tags", "other").ToString());
        Assert.Equal("+OK", node3.Call("SET", "plain", "v").ToString());
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value", node1.Call("SUNION", "tags", "plain").ToString());
    }

    [Fact]
    public async Task KeyCommands_OnHashesAndSets_ThroughEveryNode_SeeAndChangeTheTypedKey()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(extraArguments: WriteAll);
        using RawRespClient node1 = cluster.Connect(0);
        using RawRespClient node2 = cluster.Connect(1);
        using RawRespClient node3 = cluster.Connect(2);
        Assert.Equal(":1", node1.Call("HSET", "h", "f", "v").ToString());
        Assert.Equal(":2", node1.Call("SADD", "s", "a", "b").ToString());

        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal("+hash", client.Call("TYPE", "h").ToString());
            Assert.Equal("+set", client.Call("TYPE", "s").ToString());
            Assert.Equal(":2", client.Call("EXISTS", "h", "s").ToString());
            Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value", client.Call("GET", "h").ToString());
            Assert.Equal(":-1", client.Call("TTL", "h").ToString());
        }

        Assert.Equal(":1", node2.Call("EXPIRE", "h", "100").ToString());
        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.InRange(long.Parse(client.Call("TTL", "h").ToString()[1..], CultureInfo.InvariantCulture), 98, 100);
        }

        Assert.Equal(":1", node3.Call("PERSIST", "h").ToString());
        Assert.Equal(":-1", node1.Call("TTL", "h").ToString());
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value", node1.Call("SET", "h", "x", "GET").ToString());
        Assert.Equal("$\"v\"", node2.Call("HGET", "h", "f").ToString());

        Assert.Equal(":2", node3.Call("DEL", "h", "s").ToString());
        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal(":0", client.Call("EXISTS", "h", "s").ToString());
            Assert.Equal("+none", client.Call("TYPE", "h").ToString());
            Assert.Equal("$(nil)", client.Call("HGET", "h", "f").ToString());
            Assert.Equal(":0", client.Call("SCARD", "s").ToString());
        }

        Assert.Equal(":1", node1.Call("SADD", "s", "c").ToString());
        Assert.Equal("*[$\"c\"]", node2.Call("SMEMBERS", "s").ToString());

        Assert.Equal("+OK", node2.Call("SET", "str", "x").ToString());
        Assert.Equal(":1", node3.Call("INCR", "counter").ToString());
        foreach (RawRespClient client in new[] { node1, node2, node3 })
        {
            Assert.Equal("*[$\"s\"]", client.Call("SCAN", "0", "COUNT", "1000", "TYPE", "set").Items![1].ToString());
            Assert.Equal("*[]", client.Call("SCAN", "0", "COUNT", "1000", "TYPE", "hash").Items![1].ToString());
            Assert.Equal(new[] { "$\"counter\"", "$\"str\"" }, client.Call("SCAN", "0", "COUNT", "1000", "TYPE", "string").Items![1].Items!.Select(i => i.ToString()).Order(StringComparer.Ordinal));
        }

        // A string written over a hash replaces it (written after the hash was created), blind or not.
        Assert.Equal(":1", node1.Call("HSET", "h2", "f", "v").ToString());
        Assert.Equal("+OK", node2.Call("SET", "h2", "plain").ToString());
        Assert.Equal(":1", node3.Call("SADD", "s2", "m").ToString());
        Assert.Equal("+OK", node1.Call("SET", "s2", "other", "XX").ToString());
        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal("$\"plain\"", client.Call("GET", "h2").ToString());
            Assert.Equal("+string", client.Call("TYPE", "h2").ToString());
            Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value", client.Call("HGET", "h2", "f").ToString());
            Assert.Equal("$\"other\"", client.Call("GET", "s2").ToString());
        }
    }

    [Fact]
    public async Task ConcurrentIncrements_OfAStringThroughEveryNode_AllCount()
    {
        const int perClient = 250;
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using (RawRespClient first = cluster.Connect(0))
        {
            Assert.Equal("+OK", first.Call("SET", "cnt", "100").ToString());
        }

        Task[] clients = [.. Enumerable.Range(0, 6).Select(c => Task.Run(() =>
        {
            using RawRespClient client = cluster.Connect(c % 3);
            for (int i = 0; i < perClient; i++)
            {
                RespValue reply = c % 2 == 0 ? client.Call("INCR", "cnt") : client.Call("INCRBY", "cnt", "2");
                Assert.False(reply.IsError, reply.ToString());
            }
        }))];
        await Task.WhenAll(clients);

        string expected = (100 + (3 * perClient) + (3 * perClient * 2)).ToString(CultureInfo.InvariantCulture);
        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal($"$\"{expected}\"", client.Call("GET", "cnt").ToString());
            Assert.Equal("+string", client.Call("TYPE", "cnt").ToString());
        }
    }

    [Fact]
    public async Task StringCommands_OnACounter_ThroughEveryNode_SeeItsValue()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(extraArguments: WriteAll);
        using RawRespClient node1 = cluster.Connect(0);
        using RawRespClient node2 = cluster.Connect(1);
        using RawRespClient node3 = cluster.Connect(2);

        Assert.Equal(":1", node1.Call("INCR", "c").ToString());
        Assert.Equal(":6", node2.Call("INCRBY", "c", "5").ToString());
        Assert.Equal(":4", node3.Call("DECRBY", "c", "2").ToString());
        Assert.Equal("$\"4\"", node1.Call("GET", "c").ToString());
        Assert.Equal(":1", node2.Call("STRLEN", "c").ToString());
        Assert.Equal(":1", node3.Call("EXPIRE", "c", "100").ToString());
        Assert.InRange(long.Parse(node1.Call("TTL", "c").ToString()[1..], CultureInfo.InvariantCulture), 98, 100);
        Assert.Equal(":5", node1.Call("INCR", "c").ToString());
        Assert.Equal("+OK", node2.Call("SET", "c", "40").ToString());
        Assert.Equal(":-1", node3.Call("TTL", "c").ToString());
        Assert.Equal(":41", node3.Call("INCR", "c").ToString());
        Assert.Equal("$\"41.5\"", node1.Call("INCRBYFLOAT", "c", "0.5").ToString());
        Assert.Equal("-ERR value is not an integer or out of range", node2.Call("INCR", "c").ToString());
        Assert.Equal(":5", node3.Call("APPEND", "c", "x").ToString());
        Assert.Equal("$\"41.5x\"", node1.Call("GET", "c").ToString());
        Assert.Equal(":1", node2.Call("DEL", "c").ToString());
        Assert.Equal("$(nil)", node3.Call("GET", "c").ToString());
        Assert.Equal(":1", node1.Call("INCR", "c").ToString());
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value", node2.Call("HSET", "c", "f", "v").ToString());

        // A deleted counter leaves its header behind; string writes after it start a plain string again.
        Assert.Equal(":3", node1.Call("INCRBY", "gone", "3").ToString());
        Assert.Equal(":1", node2.Call("DEL", "gone").ToString());
        Assert.Equal("$\"1.5\"", node3.Call("INCRBYFLOAT", "gone", "1.5").ToString());
        Assert.Equal(":1", node1.Call("DEL", "gone").ToString());
        Assert.Equal("+OK", node2.Call("SET", "gone", "back").ToString());
        Assert.Equal("$\"back\"", node3.Call("GET", "gone").ToString());
    }
}
