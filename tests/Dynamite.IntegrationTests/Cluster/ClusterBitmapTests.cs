using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Cluster;

/// <summary>
/// Bitmaps on three real nodes (N=3, R=W=2): a SETBIT or BITFIELD write carries the bits it set, so concurrent writes
/// of different bits of one key through every node all survive (docs/DATA-TYPES.md, "Bitmaps"), where last-writer-wins
/// over whole strings would keep only one coordinator's copy.
/// </summary>
public sealed class ClusterBitmapTests
{
    [Fact]
    public async Task ConcurrentSetBits_OfDifferentBitsThroughEveryNode_AllSurvive()
    {
        const int clients = 6;
        const int perClient = 60;
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        Task[] writers = [.. Enumerable.Range(0, clients).Select(c => Task.Run(() =>
        {
            using RawRespClient client = cluster.Connect(c % 3);
            for (int i = 0; i < perClient; i++)
            {
                RespValue reply = client.Call("SETBIT", "flags", (i * clients + c).ToString(System.Globalization.CultureInfo.InvariantCulture), "1");
                Assert.False(reply.IsError, reply.ToString());
            }
        }))];
        await Task.WhenAll(writers);

        for (int node = 0; node < 3; node++)
        {
            using RawRespClient client = cluster.Connect(node);
            Assert.Equal($":{clients * perClient}", client.Call("BITCOUNT", "flags").ToString());
            Assert.Equal(":-1", client.Call("BITPOS", "flags", "0", "0", "44").ToString());
            Assert.Equal($":{clients * perClient}", client.Call("BITPOS", "flags", "0").ToString());
        }

        // A BITFIELD through one node and a SETBIT through another, then reads through the third.
        using RawRespClient node1 = cluster.Connect(0);
        using RawRespClient node2 = cluster.Connect(1);
        using RawRespClient node3 = cluster.Connect(2);
        Assert.Equal("*[:0]", node1.Call("BITFIELD", "flags", "SET", "u8", "#100", "200").ToString());
        Assert.Equal(":1", node2.Call("SETBIT", "flags", "0", "0").ToString());
        Assert.Equal("*[:200, :0]", node3.Call("BITFIELD_RO", "flags", "GET", "u8", "#100", "GET", "u1", "0").ToString());
        Assert.Equal(":101", node1.Call("BITOP", "AND", "copy", "flags", "flags").ToString());
        Assert.Equal(node3.Call("GET", "flags").ToString(), node3.Call("GET", "copy").ToString());
    }
}
