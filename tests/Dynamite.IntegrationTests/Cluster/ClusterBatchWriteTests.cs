using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Cluster;

/// <summary>
/// A multi-key write of one slot on a real 3-node cluster (N=3, W=2) is one transaction on every replica: one replica
/// message per replica however many keys it writes (counted by the coordinator's replica-write metric), and every
/// replica holds every key.
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

    private static async Task<(double ToN2, double ToN3)> ReplicaWritesAsync(LocalCluster cluster)
    {
        List<MetricsExposition.Sample> samples = MetricsExposition.Parse(await MetricsExposition.GetAsync(cluster[0].HttpPort, "/metrics"));
        double To(string peer) => samples
            .Where(s => s.Name == ReplicaWrites && s.Labels.GetValueOrDefault("op") == "write" && s.Labels.GetValueOrDefault("outcome") == "ok" && s.Labels.GetValueOrDefault("peer") == peer)
            .Sum(s => s.Value);
        return (To("n2"), To("n3"));
    }
}
