using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Cluster;

/// <summary>
/// A multi-key write of one slot on a real 3-node cluster (N=3, W=2), an MSET, an EXEC or a script, is one transaction on
/// every replica: one replica message per replica however many keys and commands it writes (counted by the coordinator's
/// replica-write metric), and every replica holds every key.
/// </summary>
public sealed class ClusterBatchWriteTests
{
    private const string ReplicaWrites = "dynamite_replica_request_duration_seconds_count";
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task MsetOfOneSlot_IsOneReplicaMessagePerReplica_AndEveryReplicaHoldsEveryKey()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb");
        using RawRespClient node1 = cluster.Connect(0);
        // One write first, so that the metric's series exist before the one counted.
        Assert.Equal("+OK", node1.Call("SET", "{batch}warm", "v").ToString());
        (double toN2, double toN3) before = await ReplicaWritesAsync(cluster);
        for (DateTime until = DateTime.UtcNow + ConvergeTimeout; (before.toN2 < 1 || before.toN3 < 1) && DateTime.UtcNow < until;)
        {
            await Task.Delay(100);
            before = await ReplicaWritesAsync(cluster);
        }


        string[] arguments = ["MSET", .. Enumerable.Range(0, 20).SelectMany(i => new[] { $"{{batch}}k{i}", $"v{i}" })];
        Assert.Equal("+OK", node1.Call(arguments).ToString());

        // W=2: the MSET is answered once one replica acknowledged; the other's acknowledgement may come after.
        (double toN2, double toN3) after = await ReplicaWritesAsync(cluster);
        for (DateTime until = DateTime.UtcNow + ConvergeTimeout; (after.toN2 == before.toN2 || after.toN3 == before.toN3) && DateTime.UtcNow < until;)
        {
            await Task.Delay(100);
            after = await ReplicaWritesAsync(cluster);
        }

        Assert.Equal(1, after.toN2 - before.toN2);
        Assert.Equal(1, after.toN3 - before.toN3);
        for (int n = 0; n < 3; n++)
        {
            using RawRespClient node = cluster.Connect(n);
            for (DateTime until = DateTime.UtcNow + ConvergeTimeout; node.Call("DYN.LOCALGET", "{batch}k19").ToString() != "$\"v19\"" && DateTime.UtcNow < until;)
            {
                await Task.Delay(100);
            }

            for (int i = 0; i < 20; i++)
            {
                Assert.Equal($"$\"v{i}\"", node.Call("DYN.LOCALGET", $"{{batch}}k{i}").ToString());
            }
        }

        // Keys of two slots are not one transaction: each goes on its own.
        Assert.Equal("+OK", node1.Call("MSET", "{a}x", "1", "{b}y", "2").ToString());
        Assert.Equal("*[$\"1\", $\"2\"]", node1.Call("MGET", "{a}x", "{b}y").ToString());
    }

    [Fact]
    public async Task ExecOfOneSlot_IsOneReplicaMessagePerReplica_SeesItsOwnWrites_AndEveryReplicaHoldsAllOfIt()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb");
        using RawRespClient node1 = cluster.Connect(0);
        (double toN2, double toN3) before = await WarmAsync(cluster, node1);

        Assert.Equal("+OK", node1.Call("MULTI").ToString());
        foreach (string[] command in new[]
        {
            new[] { "SET", "{tx}s", "v" }, ["INCR", "{tx}n"], ["HSET", "{tx}h", "f", "1", "g", "2"], ["SADD", "{tx}set", "a", "b"],
            ["GET", "{tx}s"], ["APPEND", "{tx}s", "2"], ["HINCRBY", "{tx}h", "f", "10"], ["SCARD", "{tx}set"], ["MSET", "{tx}m1", "x", "{tx}m2", "y"],
            ["DEL", "{tx}m2"], ["MGET", "{tx}m1", "{tx}m2"], ["MSETNX", "{tx}p", "1", "{tx}q", "2"], ["DEL", "{tx}p", "{tx}m1"],
        })
        {
            Assert.Equal("+QUEUED", node1.Call(command).ToString());
        }

        // Each command sees what the ones before it wrote, as on redis-server.
        Assert.Equal("*[+OK, :1, :2, :2, $\"v\", :2, :11, :2, +OK, :1, *[$\"x\", $(nil)], :1, :2]", node1.Call("EXEC").ToString());
        (double toN2, double toN3) after = await ReplicaWritesAfterAsync(cluster, before);
        Assert.Equal(1, after.toN2 - before.toN2);
        Assert.Equal(1, after.toN3 - before.toN3);

        // Every replica holds all of it (R=1 reads a node's own replica).
        for (int n = 0; n < 3; n++)
        {
            using RawRespClient node = cluster.Connect(n);
            Assert.Equal("+OK", node.Call("DYN.CONSISTENCY", "1", "1").ToString());
            for (DateTime until = DateTime.UtcNow + ConvergeTimeout; node.Call("GET", "{tx}s").ToString() != "$\"v2\"" && DateTime.UtcNow < until;)
            {
                await Task.Delay(100);
            }

            Assert.Equal("$\"v2\"", node.Call("GET", "{tx}s").ToString());
            Assert.Equal("$\"1\"", node.Call("GET", "{tx}n").ToString());
            Assert.Equal("*[$\"11\", $\"2\"]", node.Call("HMGET", "{tx}h", "f", "g").ToString());
            Assert.Equal(":2", node.Call("SCARD", "{tx}set").ToString());
            Assert.Equal("*[$(nil), $(nil), $(nil), $\"2\"]", node.Call("MGET", "{tx}m1", "{tx}m2", "{tx}p", "{tx}q").ToString());
        }
    }

    [Fact]
    public async Task EvalOfOneSlot_IsOneReplicaMessagePerReplica()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb");
        using RawRespClient node1 = cluster.Connect(0);
        (double toN2, double toN3) before = await WarmAsync(cluster, node1);

        const string Script = "redis.call('SET', KEYS[1], 'a'); redis.call('HSET', KEYS[2], 'f', 'b'); redis.call('INCRBY', KEYS[3], 5); return redis.call('HGET', KEYS[2], 'f')";
        Assert.Equal("$\"b\"", node1.Call("EVAL", Script, "3", "{ev}s", "{ev}h", "{ev}n").ToString());

        (double toN2, double toN3) after = await ReplicaWritesAfterAsync(cluster, before);
        Assert.Equal(1, after.toN2 - before.toN2);
        Assert.Equal(1, after.toN3 - before.toN3);
        using RawRespClient node3 = cluster.Connect(2);
        Assert.Equal("*[$\"a\", $\"5\"]", node3.Call("MGET", "{ev}s", "{ev}n").ToString());
    }

    /// <summary>One write, so that the metric's series exist before the one counted; the counts once they show it.</summary>
    private static async Task<(double ToN2, double ToN3)> WarmAsync(LocalCluster cluster, RawRespClient node1)
    {
        Assert.Equal("+OK", node1.Call("SET", "{warm}k", "v").ToString());
        (double toN2, double toN3) counts = await ReplicaWritesAsync(cluster);
        for (DateTime until = DateTime.UtcNow + ConvergeTimeout; (counts.toN2 < 1 || counts.toN3 < 1) && DateTime.UtcNow < until;)
        {
            await Task.Delay(100);
            counts = await ReplicaWritesAsync(cluster);
        }

        return counts;
    }

    /// <summary>The counts once both peers' moved past <paramref name="before"/> (W=2 answers before the second acknowledgement).</summary>
    private static async Task<(double ToN2, double ToN3)> ReplicaWritesAfterAsync(LocalCluster cluster, (double ToN2, double ToN3) before)
    {
        (double toN2, double toN3) after = await ReplicaWritesAsync(cluster);
        for (DateTime until = DateTime.UtcNow + ConvergeTimeout; (after.toN2 == before.ToN2 || after.toN3 == before.ToN3) && DateTime.UtcNow < until;)
        {
            await Task.Delay(100);
            after = await ReplicaWritesAsync(cluster);
        }

        // A moment more, so that a second message (which must not exist) would be counted too.
        await Task.Delay(300);
        return await ReplicaWritesAsync(cluster);
    }

    private static async Task<(double ToN2, double ToN3)> ReplicaWritesAsync(LocalCluster cluster)
    {
        List<MetricsExposition.Sample> samples = MetricsExposition.Parse(await MetricsExposition.GetAsync(cluster[0].HttpPort, "/metrics"));
        double To(string peer) => samples
            .Where(s => s.Name == ReplicaWrites && s.Labels.GetValueOrDefault("op") == "write" && s.Labels.GetValueOrDefault("outcome") == "ok" && s.Labels.GetValueOrDefault("peer") == peer)
            .Sum(s => s.Value);
        return (To("n2"), To("n3"));
    }
}
