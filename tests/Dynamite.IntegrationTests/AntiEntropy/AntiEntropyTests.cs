using System.Globalization;
using System.Text.Json;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.AntiEntropy;

/// <summary>
/// Active anti-entropy on three real nodes (N=3): a replacement node started empty, with hinted handoff and
/// read repair off and nobody reading, gets every key back from Merkle exchanges (hashes, sets and counters whole);
/// deletes missed by a down replica do not come back.
/// </summary>
public sealed class AntiEntropyTests
{
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task WipedReplica_NoHintsNoReadRepairNoReads_EveryKeyBackThenNothingLeftToRepair()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb", extraArguments: ["--fsync", "batch", "--aae-interval", "1"]);
        using (RawRespClient writer = cluster.Connect(0))
        {
            for (int i = 0; i < 500; i++)
            {
                Assert.Equal("+OK", writer.Call("SET", $"aae:{i}", $"v{i}").ToString());
            }
        }

        await cluster.KillAsync(1);
        cluster.WipeData(1);
        await cluster.RestartAsync(1, ["--hinted-handoff", "off", "--read-repair", "off"]);

        long local = 0;
        for (DateTime until = DateTime.UtcNow + ConvergeTimeout; DateTime.UtcNow < until && local < 500; await Task.Delay(250))
        {
            using RawRespClient node2 = cluster.Connect(1);
            local = long.Parse(node2.Call("DYN.LOCALDBSIZE").Text!, CultureInfo.InvariantCulture);
        }

        Assert.Equal(500, local);
        using (RawRespClient node2 = cluster.Connect(1))
        {
            Assert.Equal("$\"v499\"", node2.Call("DYN.LOCALGET", "aae:499").ToString());
        }

        // Replicas now agree: an exchange of every partition finds nothing to repair.
        ExternalTool.Result repair = await ExternalTool.RunAsync(
            "dotnet", [RepositoryPaths.DynamiteDll, "repair", "--http", $"127.0.0.1:{cluster[1].HttpPort}"], TimeSpan.FromMinutes(2));
        Assert.True(repair.ExitCode == 0, repair.ToString());
        Assert.Contains("0 keys repaired", repair.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WipedReplica_HashesSetsAndCounters_EveryTypedKeyBackWholeThenNothingLeftToRepair()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb", extraArguments: ["--fsync", "batch", "--aae-interval", "1"]);
        const int keys = 100;
        using (RawRespClient writer = cluster.Connect(0))
        {
            for (int i = 0; i < keys; i++)
            {
                Assert.Equal(":3", writer.Call("HSET", $"hash:{i}", "a", $"{i}", "b", "x", "c", "y").ToString());
                Assert.Equal(":1", writer.Call("HDEL", $"hash:{i}", "b").ToString());
                Assert.Equal(":3", writer.Call("SADD", $"set:{i}", "m1", "m2", $"m{i + 3}").ToString());
                Assert.Equal(":1", writer.Call("SREM", $"set:{i}", "m2").ToString());
                Assert.Equal($":{i}", writer.Call("INCRBY", $"counter:{i}", $"{i}").ToString());
            }
        }

        await cluster.KillAsync(1);
        cluster.WipeData(1);
        await cluster.RestartAsync(1, ["--hinted-handoff", "off", "--read-repair", "off"]);

        long local = 0;
        for (DateTime until = DateTime.UtcNow + ConvergeTimeout; DateTime.UtcNow < until && local < 3 * keys; await Task.Delay(250))
        {
            using RawRespClient node2 = cluster.Connect(1);
            local = long.Parse(node2.Call("DYN.LOCALDBSIZE").Text!, CultureInfo.InvariantCulture);
        }

        Assert.Equal(3 * keys, local);

        // Every replica holds each key whole and the same: an exchange of every partition finds nothing to repair,
        // and a read of one replica alone (R=1) through the wiped node answers what was written.
        ExternalTool.Result repair = await ExternalTool.RunAsync(
            "dotnet", [RepositoryPaths.DynamiteDll, "repair", "--http", $"127.0.0.1:{cluster[1].HttpPort}"], TimeSpan.FromMinutes(2));
        Assert.True(repair.ExitCode == 0, repair.ToString());
        Assert.Contains("0 keys repaired", repair.StandardOutput, StringComparison.Ordinal);
        using RawRespClient reader = cluster.Connect(1);
        Assert.Equal("+OK", reader.Call("DYN.CONSISTENCY", "DC_ONE").ToString());
        for (int i = 0; i < keys; i += 9)
        {
            Assert.Equal($"*[$\"a\", $\"{i}\", $\"c\", $\"y\"]", reader.Call("HGETALL", $"hash:{i}").ToString());
            Assert.Equal($"*[$\"m1\", $\"m{i + 3}\"]", reader.Call("SMEMBERS", $"set:{i}").ToString());
            Assert.Equal($"$\"{i}\"", reader.Call("GET", $"counter:{i}").ToString());
        }
    }

    [Fact]
    public async Task DeletesWhileReplicaDown_NoHints_NoneReappearAfterExchanges()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb", extraArguments: ["--fsync", "batch", "--aae-interval", "1", "--hinted-handoff", "off"]);
        using (RawRespClient writer = cluster.Connect(0))
        {
            for (int i = 0; i < 200; i++)
            {
                Assert.Equal("+OK", writer.Call("SET", $"gone:{i}", "x").ToString());
            }
        }

        // Let the third replica receive every write before it goes down with them.
        for (DateTime until = DateTime.UtcNow + ConvergeTimeout; DateTime.UtcNow < until; await Task.Delay(100))
        {
            using RawRespClient node3 = cluster.Connect(2);
            if (node3.Call("DYN.LOCALDBSIZE").Text == "200")
            {
                break;
            }
        }

        await cluster.KillAsync(2);
        using (RawRespClient deleter = cluster.Connect(0))
        {
            for (int i = 0; i < 200; i++)
            {
                Assert.Equal(":1", deleter.Call("DEL", $"gone:{i}").ToString());
            }
        }

        // Stay down past the replica request timeout (2 s): a tombstone write waiting for node 3 to reconnect
        // would otherwise simply be delivered late, and this test is about the writes that never arrive.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await cluster.RestartAsync(2);
        using (RawRespClient node3 = cluster.Connect(2))
        {
            // Live values or tombstones, all 200 objects are there: the restart lost nothing. Whether one is still a
            // live value is not asked here: an exchange may already have run (the keysRepaired check below is the
            // proof that node 3 missed the deletes).
            Assert.Equal(":200", node3.Call("DYN.LOCALDBSIZE").ToString());
        }

        await cluster.WaitUntilAllSeeEachOtherAsync();
        // Exchanges must carry the tombstones to node 3, never its old values back to the others.
        int stillLive = 200;
        for (DateTime until = DateTime.UtcNow + ConvergeTimeout; DateTime.UtcNow < until && stillLive > 0; await Task.Delay(250))
        {
            using RawRespClient node3 = cluster.Connect(2);
            stillLive = Enumerable.Range(0, 200).Count(i => node3.Call("DYN.LOCALGET", $"gone:{i}").ToString() != "$(nil)");
        }

        Assert.Equal(0, stillLive);
        for (int node = 0; node < 3; node++)
        {
            using RawRespClient client = cluster.Connect(node);
            Assert.All(Enumerable.Range(0, 200), i => Assert.Equal("$(nil)", client.Call("GET", $"gone:{i}").ToString()));
            Assert.All(Enumerable.Range(0, 200), i => Assert.Equal("$(nil)", client.Call("DYN.LOCALGET", $"gone:{i}").ToString()));
        }

        // The tombstones reached node 3 through exchanges (whichever side started them), not through hints.
        long repaired = 0;
        for (int node = 0; node < 3; node++)
        {
            using JsonDocument status = JsonDocument.Parse((await ExternalTool.RunAsync(
                "dotnet", [RepositoryPaths.DynamiteDll, "status", "--http", $"127.0.0.1:{cluster[node].HttpPort}", "--json"], TimeSpan.FromMinutes(1))).StandardOutput);
            repaired += status.RootElement.GetProperty("antiEntropy").GetProperty("keysRepaired").GetInt64();
        }

        Assert.True(repaired >= 200, $"exchanges repaired only {repaired} keys; INFO: " + string.Join(" | ", Enumerable.Range(0, 3).Select(i => string.Join(",", cluster.Info(i).Split("\r\n").Where(l => l.StartsWith("aae_", StringComparison.Ordinal))))));
    }

    [Fact]
    public async Task DeletesWhileReplicaDown_GraceZero_TombstonesCollectedEverywhereAndNoneReappear()
    {
        const int Keys = 300;
        await using LocalCluster cluster = await LocalCluster.StartAsync(
            engine: "rocksdb", extraArguments: ["--fsync", "batch", "--aae-interval", "1", "--tombstone-grace", "0", "--hinted-handoff", "off"]);
        using (RawRespClient writer = cluster.Connect(0))
        {
            for (int i = 0; i < Keys; i++)
            {
                Assert.Equal("+OK", writer.Call("SET", $"gc:{i}", "x").ToString());
            }
        }

        await WaitForAsync(() => LocalDbSize(cluster, 2) == Keys, TimeSpan.FromSeconds(15), "node 3 never held every key");
        await cluster.KillAsync(2);
        using (RawRespClient deleter = cluster.Connect(0))
        {
            for (int i = 0; i < Keys; i++)
            {
                Assert.Equal(":1", deleter.Call("DEL", $"gc:{i}").ToString());
            }
        }

        // Past the 2 s replica request timeout: node 3 must miss the tombstones, not receive them late.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await cluster.RestartAsync(2);
        await cluster.WaitUntilAllSeeEachOtherAsync();

        // Exchanges carry the tombstones to node 3; once all three hold them, the collector removes them everywhere.
        // DYN.LOCALDBSIZE counts tombstones, so 0 on every node means the tombstones themselves are gone.
        await WaitForAsync(
            () => Enumerable.Range(0, 3).All(node => LocalDbSize(cluster, node) == 0),
            TimeSpan.FromSeconds(25),
            "tombstones were not collected on every node");

        // A few more exchange rounds: nothing may come back, neither a value nor a tombstone.
        for (int round = 0; round < 4; round++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.All(Enumerable.Range(0, 3), node => Assert.Equal(0, LocalDbSize(cluster, node)));
        }

        for (int node = 0; node < 3; node++)
        {
            using RawRespClient client = cluster.Connect(node);
            Assert.All(Enumerable.Range(0, Keys), i => Assert.Equal("$(nil)", client.Call("GET", $"gc:{i}").ToString()));
            Assert.All(Enumerable.Range(0, Keys), i => Assert.Equal("$(nil)", client.Call("DYN.LOCALGET", $"gc:{i}").ToString()));
            Assert.Equal(0, LocalDbSize(cluster, node));

            // Every node is a primary of every key (N=3), so each removed each tombstone at least once.
            long collected = cluster.InfoNumber(node, "tombstones_collected");
            Assert.True(collected >= Keys, $"n{node + 1} collected {collected} tombstones");
        }

        using JsonDocument status = JsonDocument.Parse((await ExternalTool.RunAsync(
            "dotnet", [RepositoryPaths.DynamiteDll, "status", "--http", $"127.0.0.1:{cluster[0].HttpPort}", "--json"], TimeSpan.FromMinutes(1))).StandardOutput);
        Assert.True(status.RootElement.GetProperty("antiEntropy").GetProperty("tombstonesCollected").GetInt64() >= Keys);

        // Node 3 came back holding the old values: exchanges had to carry every tombstone to it (a collector only
        // removes a tombstone every primary holds). Checked here, after the fact, and not by counting node 3's keys
        // right after its restart: with a grace of 0 an exchange and a collection pass may finish before the test's
        // first command reaches node 3 (CI saw 297 of 300).
        long repaired = Enumerable.Range(0, 3).Sum(node => cluster.InfoNumber(node, "aae_keys_repaired"));
        Assert.True(repaired >= Keys, $"exchanges repaired only {repaired} keys");
    }

    private static long LocalDbSize(LocalCluster cluster, int node)
    {
        using RawRespClient client = cluster.Connect(node);
        return long.Parse(client.Call("DYN.LOCALDBSIZE").Text!, CultureInfo.InvariantCulture);
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, string failure)
    {
        for (DateTime until = DateTime.UtcNow + timeout; !condition(); await Task.Delay(250))
        {
            Assert.True(DateTime.UtcNow < until, failure);
        }
    }
}
