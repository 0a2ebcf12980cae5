using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Security;

/// <summary>
/// redis-server's protected mode: with no password set, a client connecting from beyond the node's loopback (here the
/// host, over a network namespace's bridge) is refused with the DENIED error and disconnected, while connections made
/// before keep working; turning it off lets such clients in. (Every other test connects over loopback with protected
/// mode on, its default, which is what lets them in.)
/// </summary>
public sealed class ProtectedModeTests
{
    [Fact]
    public async Task ProtectedMode_RefusesPasswordlessClientsFromBeyondLoopback()
    {
        await using NetnsCluster cluster = await NetnsCluster.StartAsync();
        using RawRespClient admin = cluster.Connect(0);
        Assert.Equal("+OK", admin.Call("CONFIG", "SET", "protected-mode", "yes").ToString());
        Assert.Equal("*[$\"protected-mode\", $\"yes\"]", admin.Call("CONFIG", "GET", "protected-mode").ToString());

        using (RawRespClient outsider = cluster.Connect(0))
        {
            outsider.Send("PING");
            Assert.StartsWith("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set", outsider.Read().ToString(), StringComparison.Ordinal);
            Assert.True(outsider.IsClosedByServer());
        }

        Assert.Equal("+PONG", admin.Call("PING").ToString());
        Assert.Equal("+OK", admin.Call("CONFIG", "SET", "protected-mode", "no").ToString());
        using RawRespClient welcome = cluster.Connect(0);
        Assert.Equal("+PONG", welcome.Call("PING").ToString());
    }
}
