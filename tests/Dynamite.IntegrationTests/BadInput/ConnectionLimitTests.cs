using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.BadInput;

/// <summary>
/// Limits that need a node configured for them: maxclients, the idle timeout and what an unauthenticated
/// client may send. In each case a client connected before keeps being served.
/// </summary>
public sealed class ConnectionLimitTests
{
    [Fact]
    public async Task ClientList_ShowsTheBytesOfACommandNotYetComplete_AsQbuf()
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory", []);
        using RawRespClient partial = node.Connect();
        string id = "id=" + partial.Call("CLIENT", "ID").Text + " ";
        // Half a SET: its header and key, and no value yet.
        const string Half = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n";
        partial.SendRaw(Half);
        using RawRespClient observer = node.Connect();
        string line = "";
        for (DateTime until = DateTime.UtcNow + TimeSpan.FromSeconds(10); DateTime.UtcNow < until; await Task.Delay(50))
        {
            line = observer.Call("CLIENT", "LIST").Text!.Split('\n').Single(l => l.StartsWith(id, StringComparison.Ordinal));
            if (line.Contains($" qbuf={Half.Length} ", StringComparison.Ordinal))
            {
                break;
            }
        }

        Assert.Contains($" qbuf={Half.Length} ", line, StringComparison.Ordinal);
        partial.SendRaw("$1\r\nv\r\n");
        Assert.Equal("+OK", partial.Read().ToString());
        Assert.Contains(" qbuf=0 ", observer.Call("CLIENT", "LIST").Text!.Split('\n').Single(l => l.StartsWith(id, StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxClients_OneTooMany_GetsRedisErrorOthersServed()
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory", ["--maxclients", "3"]);
        var clients = new List<RawRespClient>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                RawRespClient client = node.Connect();
                clients.Add(client);
                Assert.Equal("+PONG", client.Call("PING").ToString());
            }

            using (RawRespClient rejected = node.Connect())
            {
                Assert.Equal("-ERR max number of clients reached", rejected.Read().ToString());
                Assert.True(rejected.IsClosedByServer());
            }

            Assert.Equal("+PONG", clients[0].Call("PING").ToString());

            // A freed slot is usable again (the rejected connection did not leak a slot either).
            clients[2].Dispose();
            clients.RemoveAt(2);
            RawRespClient replacement = await ConnectWhenSlotFreeAsync(node);
            clients.Add(replacement);
            Assert.Equal("+OK", replacement.Call("SET", "k", "v").ToString());
            Assert.Equal("$\"v\"", clients[0].Call("GET", "k").ToString());
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task IdleTimeout_IdleClientClosed_ActiveClientKept()
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory", ["--timeout", "1"]);
        using RawRespClient idle = node.Connect();
        using RawRespClient active = node.Connect();
        Assert.Equal("+PONG", idle.Call("PING").ToString());
        // The active client talks every 200 ms for 3 s; the idle one says nothing and must be closed.
        for (int i = 0; i < 15; i++)
        {
            Assert.Equal("+PONG", active.Call("PING").ToString());
            await Task.Delay(200);
        }

        Assert.True(idle.IsClosedByServer(timeoutMs: 3000), "the idle client was not closed");
        Assert.Equal("+PONG", active.Call("PING").ToString());
    }

    [Fact]
    public async Task Unauthenticated_TooManyArgumentsOrLargeBulk_ProtocolErrorOthersServed()
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory", ["--requirepass", "s3cret"]);
        using RawRespClient bystander = node.Connect();
        Assert.Equal("+OK", bystander.Call("AUTH", "s3cret").ToString());

        using (RawRespClient manyArguments = node.Connect())
        {
            manyArguments.Send([.. Enumerable.Repeat("x", 11)]);
            Assert.Equal("-ERR Protocol error: unauthenticated multibulk length", manyArguments.Read().ToString());
            Assert.True(manyArguments.IsClosedByServer());
        }

        using (RawRespClient largeBulk = node.Connect())
        {
            largeBulk.SendRaw("*2\r\n$4\r\nAUTH\r\n$20000\r\n");
            Assert.Equal("-ERR Protocol error: unauthenticated bulk length", largeBulk.Read().ToString());
            Assert.True(largeBulk.IsClosedByServer());
        }

        using (RawRespClient unauthenticated = node.Connect())
        {
            Assert.Equal("-NOAUTH Authentication required.", unauthenticated.Call("GET", "k").ToString());
            Assert.Equal("-WRONGPASS invalid username-password pair or user is disabled.", unauthenticated.Call("AUTH", "wrong").ToString());
            Assert.Equal("+OK", unauthenticated.Call("AUTH", "s3cret").ToString());
        }

        Assert.Equal("+PONG", bystander.Call("PING").ToString());
    }

    private static async Task<RawRespClient> ConnectWhenSlotFreeAsync(DynamiteNode node)
    {
        // The server notices the closed connection asynchronously; retry for a bounded time.
        for (int attempt = 0; attempt < 50; attempt++)
        {
            RawRespClient client = node.Connect();
            RespValue reply = client.Call("PING");
            if (reply.ToString() == "+PONG")
            {
                return client;
            }

            client.Dispose();
            await Task.Delay(100);
        }

        throw new TimeoutException("no client slot became free");
    }
}
