using System.Globalization;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Cluster;

/// <summary>
/// A HyperLogLog on a 3-node cluster declares its own conflict rule: PFADDs of one key made at once through every
/// node become siblings that reads join register-wise, so the count every node answers is redis-server's count of all
/// the elements, none lost to last-writer-wins.
/// </summary>
public sealed class HyperLogLogClusterTests
{
    [Fact]
    public async Task ConcurrentPfaddsThroughThreeNodes_CountLikeRedisServerOverAllTheirElements()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await cluster.WaitUntilAllSeeEachOtherAsync();
        const int PerNode = 600;
        const int Batch = 20;
        await Task.WhenAll(Enumerable.Range(0, 3).Select(node => Task.Run(() =>
        {
            using RawRespClient client = cluster.Connect(node);
            for (int first = 0; first < PerNode; first += Batch)
            {
                string[] elements = [.. Enumerable.Range(first, Batch).Select(i => $"n{node}:{i}")];
                Assert.False(client.Call(["PFADD", "visitors", .. elements]).IsError);
            }
        })));

        await using RedisServer redis = await RedisServer.StartAsync();
        using RawRespClient reference = redis.Connect();
        for (int node = 0; node < 3; node++)
        {
            reference.Call(["PFADD", "visitors", .. Enumerable.Range(0, PerNode).Select(i => $"n{node}:{i}")]);
        }

        string expected = reference.Call("PFCOUNT", "visitors").ToString();
        // About the 1,800 elements added (a sketch's standard error is 0.81%).
        Assert.InRange(long.Parse(expected[1..], CultureInfo.InvariantCulture), 1750, 1850);
        for (int node = 0; node < 3; node++)
        {
            using RawRespClient client = cluster.Connect(node);
            Assert.Equal(expected, client.Call("PFCOUNT", "visitors").ToString());
        }

        // A write after the join stores the union, and it stays a sketch redis-server reads the same.
        using RawRespClient writer = cluster.Connect(1);
        Assert.Equal(":1", writer.Call("PFADD", "visitors", "late").ToString());
        reference.Call("PFADD", "visitors", "late");
        Assert.Equal(reference.Call("PFCOUNT", "visitors").ToString(), writer.Call("PFCOUNT", "visitors").ToString());
    }
}
