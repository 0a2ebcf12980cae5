using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Cluster;

/// <summary>
/// FLUSHALL on a real 3-node cluster: refused while a member is down (nothing deleted), then, with every member back,
/// every key is gone on every node, hints for the restarted node included. (Here the hints are usually replayed before
/// the flush; that a hint replayed after it is dropped is ReplicaStoreTests' flush-horizon case.)
/// </summary>
public sealed class ClusterFlushTests
{
    private const int Keys = 40;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task FlushAll_RefusedWhileAMemberIsDown_ThenClearsEveryNodeAndWritesAfterItStay()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb");
        await cluster.KillAsync(1);
        using (RawRespClient node1 = cluster.Connect(0))
        {
            for (int i = 0; i < Keys; i++)
            {
                Assert.Equal("+OK", node1.Call("SET", $"flush:{i}", $"v{i}").ToString());
            }

            string refused = node1.Call("FLUSHALL").ToString();
            Assert.StartsWith("-ERR FLUSHALL needs every member reachable", refused, StringComparison.Ordinal);
            Assert.Contains("n2", refused, StringComparison.Ordinal);
            Assert.Equal("$\"v0\"", node1.Call("GET", "flush:0").ToString());
        }

        long hints = 0;
        for (DateTime until = DateTime.UtcNow + Timeout; DateTime.UtcNow < until && hints < Keys; await Task.Delay(100))
        {
            hints = cluster.InfoNumber(0, "hints_pending") + cluster.InfoNumber(2, "hints_pending");
        }

        Assert.True(hints >= Keys, $"only {hints} of the {Keys} writes for the dead node were kept as hints");
        await cluster.RestartAsync(1);
        await cluster.WaitUntilAllSeeEachOtherAsync();

        using (RawRespClient node3 = cluster.Connect(2))
        {
            Assert.Equal("+OK", node3.Call("FLUSHALL").ToString());
        }

        // Whether the hints for n2 were replayed before the flush or after it, nothing written before it survives.
        for (DateTime until = DateTime.UtcNow + Timeout; DateTime.UtcNow < until; await Task.Delay(100))
        {
            if (Enumerable.Range(0, 3).Sum(n => cluster.InfoNumber(n, "hints_pending")) == 0)
            {
                break;
            }
        }

        Assert.Equal(0, Enumerable.Range(0, 3).Sum(n => cluster.InfoNumber(n, "hints_pending")));
        for (int node = 0; node < 3; node++)
        {
            using RawRespClient client = cluster.Connect(node);
            Assert.Equal(":0", client.Call("DYN.LOCALDBSIZE").ToString());
            for (int i = 0; i < Keys; i++)
            {
                Assert.Equal("$(nil)", client.Call("GET", $"flush:{i}").ToString());
            }
        }

        using (RawRespClient node2 = cluster.Connect(1))
        using (RawRespClient node1 = cluster.Connect(0))
        {
            Assert.Equal("+OK", node2.Call("SET", "after", "yes").ToString());
            Assert.Equal("$\"yes\"", node1.Call("GET", "after").ToString());
        }
    }
}
