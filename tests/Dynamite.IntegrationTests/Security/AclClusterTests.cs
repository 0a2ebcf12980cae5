using System.Diagnostics;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Security;

/// <summary>
/// ACL users are cluster state: a user set through one node is enforced by the others within seconds (issue 17: within
/// 5 s), a deletion through another node reaches every node, and a restarted node keeps the users.
/// </summary>
public sealed class AclClusterTests
{
    private static readonly TimeSpan Spread = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task UserSetThroughNodeOne_IsEnforcedByNodesTwoAndThree_AndADeletionSpreadsToo()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await cluster.WaitUntilAllSeeEachOtherAsync();
        using (RawRespClient admin = cluster.Connect(0))
        {
            Assert.Equal("+OK", admin.Call("ACL", "SETUSER", "reporter", "on", ">s3cret", "+@read", "~report:*").ToString());
            Assert.Equal("+OK", admin.Call("SET", "report:1", "r").ToString());
        }

        var watch = Stopwatch.StartNew();
        foreach (int node in new[] { 1, 2 })
        {
            await WaitUntilAsync(cluster, node, client => client.Call("AUTH", "reporter", "s3cret").ToString() == "+OK");
            using RawRespClient client = cluster.Connect(node);
            Assert.Equal("+OK", client.Call("AUTH", "reporter", "s3cret").ToString());
            Assert.Equal("r", client.Call("GET", "report:1").Text);
            Assert.StartsWith("-NOPERM", client.Call("SET", "report:1", "x").ToString(), StringComparison.Ordinal);
            Assert.StartsWith("-NOPERM", client.Call("GET", "other").ToString(), StringComparison.Ordinal);
        }

        Assert.True(watch.Elapsed < Spread, $"the user reached nodes 2 and 3 after {watch.Elapsed}");

        using (RawRespClient third = cluster.Connect(2))
        {
            Assert.Equal(":1", third.Call("ACL", "DELUSER", "reporter").ToString());
        }

        // Both other nodes hear of the deletion before node 2 is killed: a restarted node then keeps it (a node killed before
        // the deletion reached it would load the user it had saved, and hear of the deletion only from its peers later).
        foreach (int node in new[] { 0, 1 })
        {
            await WaitUntilAsync(cluster, node, client => client.Call("AUTH", "reporter", "s3cret").ToString().StartsWith("-WRONGPASS", StringComparison.Ordinal));
        }

        await cluster.KillAsync(1);
        await cluster.RestartAsync(1);
        using RawRespClient restarted = cluster.Connect(1);
        Assert.StartsWith("-WRONGPASS", restarted.Call("AUTH", "reporter", "s3cret").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChannelPermissionRevokedThroughNodeOne_ClosesTheUsersSubscriberOnNodeTwo()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await cluster.WaitUntilAllSeeEachOtherAsync();
        using (RawRespClient admin = cluster.Connect(0))
        {
            Assert.Equal("+OK", admin.Call("ACL", "SETUSER", "listener", "on", ">l", "+@all", "resetchannels", "&news").ToString());
        }

        await WaitUntilAsync(cluster, 1, client => client.Call("AUTH", "listener", "l").ToString() == "+OK");
        using RawRespClient subscriber = cluster.Connect(1);
        Assert.Equal("+OK", subscriber.Call("AUTH", "listener", "l").ToString());
        Assert.StartsWith("*[$\"subscribe\"", subscriber.Call("SUBSCRIBE", "news").ToString(), StringComparison.Ordinal);

        using (RawRespClient admin = cluster.Connect(0))
        {
            Assert.Equal("+OK", admin.Call("ACL", "SETUSER", "listener", "resetchannels", "&weather").ToString());
        }

        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                subscriber.Call("PING");
            }
            catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException or InvalidOperationException or EndOfStreamException)
            {
                break;
            }

            Assert.True(watch.Elapsed < Spread, "the subscriber whose channel was revoked through another node stayed connected");
            await Task.Delay(100);
        }
    }

    private static async Task WaitUntilAsync(LocalCluster cluster, int node, Func<RawRespClient, bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            using (RawRespClient client = cluster.Connect(node))
            {
                if (condition(client))
                {
                    return;
                }
            }

            Assert.True(watch.Elapsed < Spread, $"node n{node + 1} did not see the change within {Spread}");
            await Task.Delay(100);
        }
    }
}
