using System.Globalization;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Cluster;

/// <summary>
/// Three real nodes on loopback, N=3 R=2 W=2 (the defaults): replication, a node killed and restarted
/// (hinted handoff), read repair, Dynamo's DGET/DSET siblings and the per-connection consistency.
/// </summary>
public sealed class ClusterTests
{
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Set_ThroughNode1_ReadsBackThroughEveryNodeAndIsOnEveryReplica()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using RawRespClient node1 = cluster.Connect(0);
        Assert.Equal("+OK", node1.Call("SET", "greeting", "hello").ToString());
        for (int i = 0; i < 3; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.Equal("$\"hello\"", client.Call("GET", "greeting").ToString());
        }

        // W=2 answers after two acknowledgements; the third replica gets it moments later.
        await WaitForLocalValueAsync(cluster, 2, "greeting", "hello");
        await WaitForLocalValueAsync(cluster, 1, "greeting", "hello");
    }

    [Fact]
    public async Task KillNode2_WritesContinue_RestartedNodeReceivesEveryMissedWrite()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb", extraArguments: ["--fsync", "batch"]);
        await cluster.KillAsync(1);
        using (RawRespClient node1 = cluster.Connect(0))
        using (RawRespClient node3 = cluster.Connect(2))
        {
            for (int i = 0; i < 100; i++)
            {
                RawRespClient client = i % 2 == 0 ? node1 : node3;
                Assert.Equal("+OK", client.Call("SET", $"missed:{i}", $"v{i}").ToString());
                Assert.Equal($"$\"v{i}\"", (i % 2 == 0 ? node3 : node1).Call("GET", $"missed:{i}").ToString());
            }
        }

        // A write sent to the dead node before the detector noticed fails at its timeout and becomes a hint then.
        long hints = 0;
        for (DateTime until = DateTime.UtcNow.AddSeconds(15); DateTime.UtcNow < until && hints < 100; await Task.Delay(100))
        {
            hints = cluster.InfoNumber(0, "hints_pending") + cluster.InfoNumber(2, "hints_pending");
        }

        Assert.True(hints >= 100, $"only {hints} of the 100 writes for the dead node were kept as hints:\n{cluster.Info(0)}\n{cluster.Info(2)}");
        await cluster.RestartAsync(1);
        DateTime deadline = DateTime.UtcNow + ConvergeTimeout;
        int present = 0;
        while (DateTime.UtcNow < deadline)
        {
            using RawRespClient node2 = cluster.Connect(1);
            present = Enumerable.Range(0, 100).Count(i => node2.Call("DYN.LOCALGET", $"missed:{i}").ToString() == $"$\"v{i}\"");
            if (present == 100)
            {
                break;
            }

            await Task.Delay(250);
        }

        Assert.Equal(100, present);
    }

    [Fact]
    public async Task StaleReplica_HintsOff_RepairedByOneReadAtR2()
    {
        // rocksdb keeps node 2's data and cluster state across the restart, so it comes back stale rather than warming
        // up (a memory node would pull everything from its peers before serving reads). Reads ask all N here, as in
        // Dynamo: the default (quorum) fan-out would ask node 1 and only one of the others.
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb", extraArguments: ["--hinted-handoff", "off", "--read-fanout", "all"]);
        await cluster.KillAsync(1);
        using (RawRespClient node1 = cluster.Connect(0))
        {
            Assert.Equal("+OK", node1.Call("SET", "stale", "fresh").ToString());
        }

        await cluster.RestartAsync(1);
        await cluster.WaitUntilAllSeeEachOtherAsync();
        using RawRespClient node2 = cluster.Connect(1);
        Assert.Equal("$(nil)", node2.Call("DYN.LOCALGET", "stale").ToString());

        // One read at R=2 through node 1: the coordinator sees node 2's reply is missing the value and repairs it.
        using (RawRespClient node1 = cluster.Connect(0))
        {
            Assert.Equal("$\"fresh\"", node1.Call("GET", "stale").ToString());
        }

        await WaitForLocalValueAsync(cluster, 1, "stale", "fresh");
        Assert.True(cluster.InfoNumber(0, "read_repairs") >= 1);
    }

    [Fact]
    public async Task QuorumRead_ThroughAReplicaHoldingAnOlderValue_ReturnsTheNewerAndRepairsItself()
    {
        // The default fan-out asks this node's own copy and one other replica, sending its copy's digest: the other
        // holds a different version, so it sends its value back, and the merge (the newer value) answers and repairs.
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb", extraArguments: ["--hinted-handoff", "off", "--aae", "off"]);
        using (RawRespClient node1 = cluster.Connect(0))
        {
            Assert.Equal("+OK", node1.Call("SET", "versioned", "old").ToString());
        }

        await WaitForLocalValueAsync(cluster, 1, "versioned", "old");
        await cluster.KillAsync(1);
        using (RawRespClient node1 = cluster.Connect(0))
        {
            Assert.Equal("+OK", node1.Call("SET", "versioned", "new").ToString());
        }

        await cluster.RestartAsync(1);
        await cluster.WaitUntilAllSeeEachOtherAsync();
        using RawRespClient node2 = cluster.Connect(1);
        Assert.Equal("$\"old\"", node2.Call("DYN.LOCALGET", "versioned").ToString());

        Assert.Equal("$\"new\"", node2.Call("GET", "versioned").ToString());
        await WaitForLocalValueAsync(cluster, 1, "versioned", "new");
        Assert.True(cluster.InfoNumber(1, "read_repairs") >= 1);
    }

    [Fact]
    public async Task ReadAtR1_OnAReplica_AnswersFromItsOwnCopyWithoutAskingTheOthers()
    {
        // R=1 trades freshness for speed: a replica coordinating the read answers from its own copy. rocksdb keeps
        // node 2's (stale) data across its restart, and hints are off, so only its own copy can differ.
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb", extraArguments: ["--hinted-handoff", "off", "--r", "1", "--w", "1", "--aae", "off"]);
        await cluster.KillAsync(1);
        using (RawRespClient node1 = cluster.Connect(0))
        {
            Assert.Equal("+OK", node1.Call("SET", "r1-key", "fresh").ToString());
        }

        await cluster.RestartAsync(1);
        await cluster.WaitUntilAllSeeEachOtherAsync();
        using RawRespClient node2 = cluster.Connect(1);
        Assert.Equal("$(nil)", node2.Call("GET", "r1-key").ToString());
        Assert.Equal(0, cluster.InfoNumber(1, "read_repairs"));

        // A quorum read on the same connection asks the others, finds the value and repairs node 2.
        Assert.Equal("+OK", node2.Call("DYN.CONSISTENCY", "DC_QUORUM").ToString());
        Assert.Equal("$\"fresh\"", node2.Call("GET", "r1-key").ToString());
        await WaitForLocalValueAsync(cluster, 1, "r1-key", "fresh");
    }

    [Fact]
    public async Task DgetDset_TwoClientsInterleaved_AtMostTwoSiblingsAndContextResolves()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using RawRespClient alice = cluster.Connect(0);
        using RawRespClient bob = cluster.Connect(2);
        int mostSiblings = 0;
        bool sawBothValues = false;
        for (int round = 0; round < 100; round++)
        {
            // Both read, then both write with what they read: the second write is concurrent with the first.
            RespValue aliceRead = alice.Call("DGET", "shared");
            RespValue bobRead = bob.Call("DGET", "shared");
            Assert.Equal("+OK", alice.Call("DSET", "shared", aliceRead.Items![0].Text!, $"alice-{round}").ToString());
            Assert.Equal("+OK", bob.Call("DSET", "shared", bobRead.Items![0].Text!, $"bob-{round}").ToString());
            RespValue after = alice.Call("DGET", "shared");
            int siblings = after.Items!.Count - 1;
            mostSiblings = Math.Max(mostSiblings, siblings);
            var values = after.Items.Skip(1).Select(v => v.Text).ToHashSet();
            sawBothValues |= values.SetEquals([$"alice-{round}", $"bob-{round}"]);
        }

        Assert.True(mostSiblings <= 2, $"{mostSiblings} siblings: a write with its read context must supersede what it read");
        Assert.True(sawBothValues, "DGET never returned both concurrent values");

        RespValue conflicted = alice.Call("DGET", "shared");
        Assert.Equal("+OK", alice.Call("DSET", "shared", conflicted.Items![0].Text!, "resolved").ToString());
        RespValue resolved = bob.Call("DGET", "shared");
        Assert.Equal(["resolved"], resolved.Items!.Skip(1).Select(v => v.Text));
        Assert.Equal("$\"resolved\"", bob.Call("GET", "shared").ToString());
    }

    [Fact]
    public async Task PlainCommands_OnCluster_BehaveAsRedis()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using RawRespClient client = cluster.Connect(1);
        Assert.Equal("+OK", client.Call("MSET", "a", "1", "b", "2", "c", "3").ToString());
        Assert.Equal("*[$\"1\", $(nil), $\"3\"]", client.Call("MGET", "a", "missing", "c").ToString());
        Assert.Equal(":2", client.Call("EXISTS", "a", "b", "missing").ToString());
        Assert.Equal(":2", client.Call("DEL", "a", "b", "missing").ToString());
        Assert.Equal(":0", client.Call("EXISTS", "a", "b").ToString());
        Assert.Equal(":5", client.Call("INCRBY", "counter", "5").ToString());
        Assert.Equal(":6", client.Call("INCR", "counter").ToString());
        Assert.Equal(":5", client.Call("APPEND", "text", "hello").ToString());
        Assert.Equal("$(nil)", client.Call("SET", "once", "x", "NX", "GET").ToString());
        Assert.Equal("$\"x\"", client.Call("SET", "once", "y", "NX", "GET").ToString());
        Assert.Equal(":1", client.Call("EXPIRE", "text", "100").ToString());
        long ttl = long.Parse(client.Call("TTL", "text").Text!, CultureInfo.InvariantCulture);
        Assert.InRange(ttl, 95, 100);
        Assert.Equal("+OK", client.Call("SET", "short", "x", "PX", "100").ToString());
        await Task.Delay(300);
        Assert.Equal("$(nil)", client.Call("GET", "short").ToString());
        Assert.Equal(":1", client.Call("DEL", "counter").ToString());
        using RawRespClient other = cluster.Connect(2);
        Assert.Equal("$(nil)", other.Call("GET", "counter").ToString());
        Assert.Equal("$\"hello\"", other.Call("GET", "text").ToString());
    }

    [Fact]
    public async Task FiveNodes_N3_CommandsOverSeveralTypedKeys_RunThroughEveryNode()
    {
        // Each node is a primary of about 3 keys in 5, so each command below meets keys it must hand to a primary:
        // SMOVE's, a STORE's and RENAME's steps and a multi-key DEL's typed keys are forwarded one key at a time.
        await using LocalCluster cluster = await LocalCluster.StartAsync(count: 5);
        for (int i = 0; i < 10; i++)
        {
            using RawRespClient writer = cluster.Connect(i % 5);
            Assert.Equal(":2", writer.Call("SADD", $"a:{i}", "x", "y").ToString());
            Assert.Equal(":1", writer.Call("SADD", $"b:{i}", "z").ToString());
            Assert.Equal(":1", writer.Call("SMOVE", $"a:{i}", $"b:{i}", "x").ToString());
            Assert.Equal(":3", writer.Call("SUNIONSTORE", $"u:{i}", $"a:{i}", $"b:{i}").ToString());
            Assert.Equal(":1", writer.Call("HSET", $"h:{i}", "f", $"v{i}").ToString());
            Assert.Equal(":1", writer.Call("EXPIRE", $"h:{i}", "600").ToString());
            Assert.Equal("+OK", writer.Call("RENAME", $"h:{i}", $"r:{i}").ToString());
            Assert.Equal(":1", writer.Call("COPY", $"b:{i}", $"c:{i}").ToString());
            Assert.Equal(":3", writer.Call("DEL", $"a:{i}", $"c:{i}", $"u:{i}").ToString());
            using RawRespClient reader = cluster.Connect((i + 2) % 5);
            Assert.Equal(":0", reader.Call("EXISTS", $"a:{i}", $"c:{i}", $"u:{i}", $"h:{i}").ToString());
            Assert.Equal(":2", reader.Call("SCARD", $"b:{i}").ToString());
            Assert.Equal(":1", reader.Call("SISMEMBER", $"b:{i}", "x").ToString());
            Assert.Equal($"$\"v{i}\"", reader.Call("HGET", $"r:{i}", "f").ToString());
            Assert.InRange(long.Parse(reader.Call("TTL", $"r:{i}").Text!, CultureInfo.InvariantCulture), 1, 600);
        }
    }

    [Fact]
    public async Task FiveNodes_N3_WritesThroughNonReplicasAreForwarded_EveryKeyOnExactlyThreeNodes()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(count: 5);
        for (int i = 0; i < 50; i++)
        {
            using RawRespClient writer = cluster.Connect(i % 5);
            Assert.Equal("+OK", writer.Call("SET", $"spread:{i}", $"v{i}").ToString());
            Assert.Equal(":7", writer.Call("INCRBY", $"count:{i}", "7").ToString());
            Assert.Equal(":1", writer.Call("HSET", $"hash:{i}", "f", $"h{i}").ToString());
            Assert.Equal(":1", writer.Call("SADD", $"set:{i}", $"m{i}").ToString());
            using RawRespClient other = cluster.Connect((i + 1) % 5);
            // Another coordinator: its reply is its own state's (with or without the first increment), and both count.
            Assert.Contains(other.Call("INCRBY", $"count:{i}", "3").ToString(), new[] { ":10", ":3" });
            using RawRespClient reader = cluster.Connect((i + 2) % 5);
            Assert.Equal($"$\"v{i}\"", reader.Call("GET", $"spread:{i}").ToString());
            Assert.Equal("$\"10\"", reader.Call("GET", $"count:{i}").ToString());
            Assert.Equal($"$\"h{i}\"", reader.Call("HGET", $"hash:{i}", "f").ToString());
            Assert.Equal(":1", reader.Call("SISMEMBER", $"set:{i}", $"m{i}").ToString());
        }

        // A forwarded command answers in its client's protocol: RESP3's set for SPOP with a count, through every node
        // (two of the five are not primaries of the key).
        for (int i = 0; i < 5; i++)
        {
            using RawRespClient client = cluster.Connect(i);
            Assert.False(client.Call("HELLO", "3").IsError);
            Assert.Equal(":2", client.Call("SADD", $"resp3:{i}", "a", "b").ToString());
            RespValue popped = client.Call("SPOP", $"resp3:{i}", "1");
            Assert.Equal('~', popped.Type);
            Assert.Single(popped.Items!);
        }

        // Each key lives on exactly N=3 of the 5 nodes once the background replica writes land.
        long total = 0;
        for (DateTime until = DateTime.UtcNow + ConvergeTimeout; DateTime.UtcNow < until; await Task.Delay(200))
        {
            total = Enumerable.Range(0, 5).Sum(i =>
            {
                using RawRespClient client = cluster.Connect(i);
                return long.Parse(client.Call("DYN.LOCALDBSIZE").Text!, CultureInfo.InvariantCulture);
            });
            if (total == 205 * 3)
            {
                break;
            }
        }

        Assert.Equal(615, total);
    }

    [Fact]
    public async Task StatusAndRing_AdminVerbs_ShowMembersHealthAndPreferenceLists()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        string http = $"127.0.0.1:{cluster[0].HttpPort}";
        await cluster.KillAsync(2);
        System.Text.Json.JsonElement status = default;
        for (DateTime until = DateTime.UtcNow + ConvergeTimeout; DateTime.UtcNow < until; await Task.Delay(200))
        {
            ExternalTool.Result result = await ExternalTool.RunAsync("dotnet", [RepositoryPaths.DynamiteDll, "status", "--http", http, "--json"], TimeSpan.FromSeconds(60));
            Assert.True(result.ExitCode == 0, result.ToString());
            status = System.Text.Json.JsonDocument.Parse(result.StandardOutput).RootElement;
            if (status.GetProperty("members").EnumerateArray().Any(m => m.GetProperty("id").GetString() == "n3" && m.GetProperty("state").GetString() == "down"))
            {
                break;
            }
        }

        var members = status.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!, m => m);
        Assert.Equal(["n1", "n2", "n3"], members.Keys.Order());
        Assert.Equal("up", members["n2"].GetProperty("state").GetString());
        Assert.Equal("down", members["n3"].GetProperty("state").GetString());
        Assert.Equal(256, members.Values.Sum(m => m.GetProperty("partitionsOwned").GetInt32()));

        ExternalTool.Result ring = await ExternalTool.RunAsync("dotnet", [RepositoryPaths.DynamiteDll, "ring", "--http", http, "--json"], TimeSpan.FromSeconds(60));
        Assert.True(ring.ExitCode == 0, ring.ToString());
        var partitions = System.Text.Json.JsonDocument.Parse(ring.StandardOutput).RootElement.GetProperty("partitions").EnumerateArray().ToList();
        Assert.Equal(256, partitions.Count);
        Assert.All(partitions, p => Assert.Equal(3, p.GetProperty("primaries").GetArrayLength()));
        Assert.All(partitions, p => Assert.Equal(["n3"], p.GetProperty("unreachable").EnumerateArray().Select(n => n.GetString())));

        ExternalTool.Result unreachable = await ExternalTool.RunAsync("dotnet", [RepositoryPaths.DynamiteDll, "status", "--http", $"127.0.0.1:{FreePort.Next()}"], TimeSpan.FromSeconds(60));
        Assert.Equal(1, unreachable.ExitCode);
        Assert.Contains("cannot reach the admin API", unreachable.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consistency_PerConnection_ValidatedAndReported()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        using RawRespClient client = cluster.Connect(0);
        Assert.Equal("$\"DEFAULT\"", client.Call("DYN.CONSISTENCY").ToString());
        Assert.Equal("+OK", client.Call("DYN.CONSISTENCY", "1", "1").ToString());
        Assert.Equal("$\"R=1 W=1\"", client.Call("DYN.CONSISTENCY").ToString());
        Assert.Equal("+OK", client.Call("DYN.CONSISTENCY", "dc_safe_quorum").ToString());
        Assert.Equal("+OK", client.Call("SET", "k", "v").ToString());
        Assert.Equal("$\"v\"", client.Call("GET", "k").ToString());
        Assert.StartsWith("-ERR r and w must be between 1 and N=3", client.Call("DYN.CONSISTENCY", "4", "1").ToString(), StringComparison.Ordinal);
        Assert.StartsWith("-ERR unknown consistency level", client.Call("DYN.CONSISTENCY", "SOMETIMES").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoNodesDown_QuorumUnreachable_ClearErrorNotSilentSuccess()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await cluster.KillAsync(1);
        await cluster.KillAsync(2);
        using RawRespClient client = cluster.Connect(0);
        // Until the detector marks them down the requests time out; either way W=2 cannot be met.
        Assert.StartsWith("-NOQUORUM write quorum not reached", client.Call("SET", "k", "v").ToString(), StringComparison.Ordinal);
        Assert.StartsWith("-NOQUORUM read quorum not reached", client.Call("GET", "k").ToString(), StringComparison.Ordinal);
        Assert.Equal("+OK", client.Call("DYN.CONSISTENCY", "DC_ONE").ToString());
        Assert.Equal("+OK", client.Call("SET", "k", "v").ToString());
        Assert.Equal("$\"v\"", client.Call("GET", "k").ToString());
    }

    [Fact]
    public async Task Overload_W1PipelinedBenchmark_EveryReplicaGetsEveryKey()
    {
        // Netflix Dynomite dropped replica writes under this load; every replica must end with every key.
        await using LocalCluster cluster = await LocalCluster.StartAsync(extraArguments: ["--w", "1", "--r", "1"]);
        ExternalTool.Result result = await ExternalTool.RunAsync(
            "redis-benchmark",
            ["-p", cluster[0].Port.ToString(CultureInfo.InvariantCulture), "-t", "set", "-n", "100000", "-r", "1000000000", "-d", "100", "-c", "50", "-P", "16", "-q"],
            TimeSpan.FromMinutes(5));
        Assert.True(result.ExitCode == 0, result.ToString());

        // Node 1 coordinated every write and stores every key it acknowledged: its count is the number written.
        long written = 0;
        long[] counts = [];
        for (DateTime until = DateTime.UtcNow + ConvergeTimeout; DateTime.UtcNow < until; await Task.Delay(250))
        {
            counts = [.. Enumerable.Range(0, 3).Select(i =>
            {
                using RawRespClient client = cluster.Connect(i);
                return long.Parse(client.Call("DYN.LOCALDBSIZE").Text!, CultureInfo.InvariantCulture);
            })];
            written = counts[0];
            if (counts.All(c => c == written))
            {
                break;
            }
        }

        Assert.True(written > 99_000, $"only {written} distinct keys written");
        Assert.True(counts.All(c => c == written), $"local key counts differ after {ConvergeTimeout}: {string.Join(", ", counts)}");
        Assert.Equal(0, cluster.InfoNumber(0, "replica_write_failures"));
    }

    private static async Task WaitForLocalValueAsync(LocalCluster cluster, int index, string key, string value)
    {
        DateTime deadline = DateTime.UtcNow + ConvergeTimeout;
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            using RawRespClient client = cluster.Connect(index);
            last = client.Call("DYN.LOCALGET", key).ToString();
            if (last == $"$\"{value}\"")
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"n{index + 1} does not hold {key}={value} locally after {ConvergeTimeout}: {last}");
    }
}
