using System.Globalization;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Cluster;

/// <summary>
/// EXEC through a node that is not a primary of the transaction's slot (5 nodes, N=3): a primary runs the whole
/// transaction, so it is still one replica message per replica (counted by the primary's replica-write metric) and
/// the client sees redis-server's replies; WATCH still aborts it when a watched key changed.
/// </summary>
public sealed class ForwardedTransactionTests
{
    private const string ReplicaWrites = "dynamite_replica_request_duration_seconds_count";
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ExecThroughANodeThatIsNotAPrimary_RunsWholeOnAPrimary_OneReplicaMessagePerReplica()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(count: 5, extraArguments: ["--cluster-announce-replicas", "on"]);
        using RawRespClient client = cluster.Connect(0);
        (string tag, string master, string[] replicas) = await SlotWithoutNodeAsync(client, "n1");
        int masterIndex = int.Parse(master[1..], CultureInfo.InvariantCulture) - 1;

        // One write through the master first, so that its metric's series exist before the one counted.
        using RawRespClient reader = cluster.Connect(masterIndex);
        Assert.Equal("+OK", reader.Call("SET", $"{{{tag}}}warm", "v").ToString());
        double[] before = await CountsOnceMovedAsync(cluster, masterIndex, replicas, new double[replicas.Length]);

        Assert.Equal("+OK", client.Call("WATCH", $"{{{tag}}}s").ToString());
        Assert.Equal("+OK", client.Call("MULTI").ToString());
        Assert.Equal("+QUEUED", client.Call("SET", $"{{{tag}}}s", "v").ToString());
        Assert.Equal("+QUEUED", client.Call("INCRBY", $"{{{tag}}}n", "5").ToString());
        Assert.Equal("+QUEUED", client.Call("HSET", $"{{{tag}}}h", "f", "1").ToString());
        Assert.Equal("+QUEUED", client.Call("APPEND", $"{{{tag}}}s", "w").ToString());
        Assert.Equal("+QUEUED", client.Call("HGETALL", $"{{{tag}}}h").ToString());
        Assert.Equal("*[+OK, :5, :1, :2, *[$\"f\", $\"1\"]]", client.Call("EXEC").ToString());

        double[] after = await CountsOnceMovedAsync(cluster, masterIndex, replicas, before);
        Assert.Equal(Enumerable.Repeat(1.0, replicas.Length), after.Zip(before, (a, b) => a - b));
        Assert.Equal("*[$\"vw\", $\"5\"]", reader.Call("MGET", $"{{{tag}}}s", $"{{{tag}}}n").ToString());

        // A watched key changed by another client: the forwarded EXEC runs nothing, as redis-server's.
        Assert.Equal("+OK", client.Call("WATCH", $"{{{tag}}}s").ToString());
        Assert.Equal("+OK", reader.Call("SET", $"{{{tag}}}s", "other").ToString());
        Assert.Equal("+OK", client.Call("MULTI").ToString());
        Assert.Equal("+QUEUED", client.Call("SET", $"{{{tag}}}s", "mine").ToString());
        Assert.Equal("*(nil)", client.Call("EXEC").ToString());
        Assert.Equal("$\"other\"", client.Call("GET", $"{{{tag}}}s").ToString());

        // DYN.EXEC is the nodes' own: a client that sends it is refused.
        Assert.StartsWith("-ERR DYN.EXEC runs a transaction another node forwarded", client.Call("DYN.EXEC", "1", "1", "PING").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TransactionsAndSingleCommandsThroughEveryNodeAtOnce_AllCount()
    {
        // Every node runs transactions (staged on a primary, forwarded by the others) and single commands (forwarded to
        // a primary by the nodes that are not one) on the same keys at once: no increment or member may be lost, which
        // happens if a transaction's staged writes and a forwarded write take the same version.
        await using LocalCluster cluster = await LocalCluster.StartAsync(count: 5);
        const int Rounds = 80;
        await Task.WhenAll(Enumerable.Range(0, 5).Select(n => Task.Run(() =>
        {
            using RawRespClient client = cluster.Connect(n);
            for (int i = 0; i < Rounds; i++)
            {
                Assert.Equal("+OK", client.Call("MULTI").ToString());
                Assert.Equal("+QUEUED", client.Call("INCR", "{all}c").ToString());
                Assert.Equal("+QUEUED", client.Call("SADD", "{all}s", $"tx{n}-{i}").ToString());
                Assert.Equal("+QUEUED", client.Call("HINCRBY", "{all}h", "f", "1").ToString());
                RespValue exec = client.Call("EXEC");
                Assert.Equal(3, exec.Items!.Count);
                Assert.False(client.Call("INCR", "{all}c").IsError);
                Assert.Equal(":1", client.Call("SADD", "{all}s", $"one{n}-{i}").ToString());
                Assert.False(client.Call("HINCRBY", "{all}h", "f", "1").IsError);
            }
        })));

        for (int n = 0; n < 5; n++)
        {
            using RawRespClient reader = cluster.Connect(n);
            Assert.Equal($"$\"{5 * Rounds * 2}\"", reader.Call("GET", "{all}c").ToString());
            Assert.Equal($":{5 * Rounds * 2}", reader.Call("SCARD", "{all}s").ToString());
            Assert.Equal($"$\"{5 * Rounds * 2}\"", reader.Call("HGET", "{all}h", "f").ToString());
        }
    }

    /// <summary>A hash tag whose slot's replicas (CLUSTER SLOTS with replicas announced) leave out <paramref name="node"/>: its master and the others.</summary>
    private static async Task<(string Tag, string Master, string[] Replicas)> SlotWithoutNodeAsync(RawRespClient client, string node)
    {
        for (DateTime until = DateTime.UtcNow + ConvergeTimeout; DateTime.UtcNow < until; await Task.Delay(200))
        {
            RespValue slots = client.Call("CLUSTER", "SLOTS");
            if (slots.Items!.Any(range => range.Items!.Count < 5))
            {
                // Not every range lists all three primaries yet.
                continue;
            }

            for (int i = 0; i < 1000; i++)
            {
                string tag = $"fw{i}";
                int slot = int.Parse(client.Call("CLUSTER", "KEYSLOT", tag).Text!, CultureInfo.InvariantCulture);
                RespValue range = slots.Items!.First(r => int.Parse(r.Items![0].Text!, CultureInfo.InvariantCulture) <= slot && slot <= int.Parse(r.Items[1].Text!, CultureInfo.InvariantCulture));
                string[] nodes = [.. range.Items!.Skip(2).Select(n => n.Items![2].Text!)];
                if (!nodes.Contains(node))
                {
                    return (tag, nodes[0], nodes[1..]);
                }
            }
        }

        throw new InvalidOperationException($"no slot without {node} found");
    }

    /// <summary>The master's successful replica writes to each of <paramref name="peers"/>, once every count moved past <paramref name="before"/>.</summary>
    private static async Task<double[]> CountsOnceMovedAsync(LocalCluster cluster, int master, string[] peers, double[] before)
    {
        double[] counts = await CountsAsync(cluster, master, peers);
        for (DateTime until = DateTime.UtcNow + ConvergeTimeout; counts.Zip(before).Any(c => c.First <= c.Second) && DateTime.UtcNow < until;)
        {
            await Task.Delay(100);
            counts = await CountsAsync(cluster, master, peers);
        }

        // A moment more, so that a second message (which must not exist) would be counted too.
        await Task.Delay(300);
        return await CountsAsync(cluster, master, peers);
    }

    private static async Task<double[]> CountsAsync(LocalCluster cluster, int master, string[] peers)
    {
        List<MetricsExposition.Sample> samples = MetricsExposition.Parse(await MetricsExposition.GetAsync(cluster[master].HttpPort, "/metrics"));
        return [.. peers.Select(peer => samples
            .Where(s => s.Name == ReplicaWrites && s.Labels.GetValueOrDefault("op") == "write" && s.Labels.GetValueOrDefault("outcome") == "ok" && s.Labels.GetValueOrDefault("peer") == peer)
            .Sum(s => s.Value))];
    }
}
