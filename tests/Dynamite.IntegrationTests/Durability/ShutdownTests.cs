using System.Text;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Durability;

/// <summary>
/// SIGTERM and SIGINT shut a node down cleanly: requests already sent are answered, the process exits 0,
/// and everything acknowledged is there after a restart.
/// </summary>
public sealed class ShutdownTests
{
    [Theory]
    [InlineData(Signals.SigTerm)]
    [InlineData(Signals.SigInt)]
    public async Task Signal_WithPipelinedRequestsInFlight_RepliesFlushedExitZeroDataKept(int signal)
    {
        string dataDirectory = Directory.CreateTempSubdirectory("dynamite-shutdown-").FullName;
        try
        {
            const int Pipelined = 2000;
            int port;
            int answered = 0;
            await using (DynamiteNode node = await DynamiteNode.StartAsync("rocksdb", [], dataDirectory))
            {
                port = node.Port;
                using RawRespClient client = node.Connect();
                var batch = new StringBuilder();
                for (int i = 0; i < Pipelined; i++)
                {
                    batch.Append(Encoding.Latin1.GetString(RawRespClient.Encode("SET", $"s{i}", $"v{i}")));
                }

                client.SendRaw(batch.ToString());
                // Wait for the first reply, so the batch is being served when the signal arrives.
                Assert.Equal("+OK", client.Read().ToString());
                answered = 1;
                node.Signal(signal);
                try
                {
                    while (answered < Pipelined)
                    {
                        Assert.Equal("+OK", client.Read().ToString());
                        answered++;
                    }
                }
                catch (Exception exception) when (exception is IOException or EndOfStreamException)
                {
                    // The server may close after flushing the requests it had read; the rest were never acknowledged.
                }

                Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the node did not exit after the signal");
                Assert.Equal(0, node.ExitCode);
                Assert.Contains("flushing", node.Output, StringComparison.OrdinalIgnoreCase);
            }

            Assert.True(answered > 0);
            await using DynamiteNode restarted = await DynamiteNode.StartAsync("rocksdb", [], dataDirectory, port);
            using RawRespClient reader = restarted.Connect();
            for (int i = 0; i < answered; i++)
            {
                Assert.Equal($"$\"v{i}\"", reader.Call("GET", $"s{i}").ToString());
            }
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Sigterm_ClusterNode_StopsThePeerProtocolAndExitsZero()
    {
        // A durable node keeps its hints in an engine of their own, which the shutdown closes once.
        await using LocalCluster cluster = await LocalCluster.StartAsync(engine: "rocksdb");
        using (RawRespClient client = cluster.Connect(2))
        {
            Assert.Equal("+OK", client.Call("SET", "k", "v").ToString());
        }

        DynamiteNode node = cluster[2];
        node.Signal(Signals.SigTerm);
        Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(20)), "the cluster node did not exit after SIGTERM");
        Assert.Equal(0, node.ExitCode);
    }

    [Fact]
    public async Task Sigterm_IdleNode_ExitsQuicklyAndRefusesNewConnections()
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory");
        using RawRespClient client = node.Connect();
        Assert.Equal("+PONG", client.Call("PING").ToString());
        node.Signal(Signals.SigTerm);
        Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(20)), "the node did not exit after SIGTERM");
        Assert.Equal(0, node.ExitCode);
        Assert.True(client.IsClosedByServer());
        Assert.ThrowsAny<System.Net.Sockets.SocketException>(() => RawRespClient.Connect(node.Port).Dispose());
    }

    [Fact]
    public async Task SaveThenShutdownCommand_StopsTheNodeCleanly_AndEverySavedWriteIsThereAfterARestart()
    {
        string dataDirectory = Directory.CreateTempSubdirectory("dynamite-shutdown-command-").FullName;
        try
        {
            await using (DynamiteNode node = await DynamiteNode.StartAsync("rocksdb", ["--fsync", "never"], dataDirectory))
            {
                using RawRespClient client = node.Connect();
                long startedAt = long.Parse(client.Call("LASTSAVE").Text!, System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal("+OK", client.Call("SET", "saved", "1").ToString());
                Assert.Equal("+OK", client.Call("SAVE").ToString());
                Assert.True(long.Parse(client.Call("LASTSAVE").Text!, System.Globalization.CultureInfo.InvariantCulture) >= startedAt);
                Assert.Equal("+OK", client.Call("MULTI").ToString());
                Assert.Equal("-ERR Command not allowed inside a transaction", client.Call("SHUTDOWN").ToString());
                Assert.StartsWith("-EXECABORT", client.Call("EXEC").ToString(), StringComparison.Ordinal);
                Assert.Equal("+OK", client.Call("SET", "also", "2").ToString());

                // SHUTDOWN answers nothing: the connection closes and the process exits 0.
                client.Send("SHUTDOWN");
                Assert.True(client.IsClosedByServer(), "SHUTDOWN left the connection open");
                Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the node did not exit after SHUTDOWN");
                Assert.Equal(0, node.ExitCode);
            }

            await using DynamiteNode restarted = await DynamiteNode.StartAsync("rocksdb", [], dataDirectory);
            using RawRespClient again = restarted.Connect();
            Assert.Equal("$\"1\"", again.Call("GET", "saved").ToString());
            Assert.Equal("$\"2\"", again.Call("GET", "also").ToString());
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
