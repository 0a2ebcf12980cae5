using Dynamite.IntegrationTests.Infrastructure;
using Dynamite.IntegrationTests.RealClients;
using Xunit;

namespace Dynamite.IntegrationTests.PubSub;

/// <summary>Pub/sub and MONITOR on one node: the bound on a subscriber that stops reading, and the MONITOR feed.</summary>
public sealed class PubSubNodeTests(SingleNodeFixture fixture) : IClassFixture<SingleNodeFixture>
{
    [Fact]
    public void ASubscriberThatStopsReading_IsDisconnectedAtItsOutputLimit_AndEveryoneElseKeepsBeingServed()
    {
        using RawRespClient admin = fixture.Node.Connect();
        Assert.Equal("+OK", admin.Call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0").ToString());
        try
        {
            using RawRespClient stalled = fixture.Node.Connect();
            using RawRespClient reading = fixture.Node.Connect();
            Assert.Equal("*[$\"subscribe\", $\"firehose\", :1]", stalled.Call("SUBSCRIBE", "firehose").ToString());
            Assert.Equal("*[$\"subscribe\", $\"quiet\", :1]", reading.Call("SUBSCRIBE", "quiet").ToString());
            string payload = new('x', 64 * 1024);
            int published = 0;
            // The stalled client fills its socket, then its 1 MB outbox; then the node lets it go. Bounded: 200 MB at most.
            while (published < 3200 && admin.Call("PUBLISH", "firehose", payload).ToString() == ":1")
            {
                published++;
            }

            Assert.True(published < 3200, "the subscriber that stopped reading was never disconnected");
            Assert.True(stalled.IsClosedByServerAfterDraining(), "the stalled subscriber's connection is still open");
            Assert.Equal(":1", admin.Call("PUBLISH", "quiet", "still here").ToString());
            Assert.Equal("*[$\"message\", $\"quiet\", $\"still here\"]", reading.Read().ToString());
            Assert.Equal("+PONG", admin.Call("PING").ToString());
        }
        finally
        {
            admin.Call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60");
        }
    }

    [Fact]
    public void Monitor_ShowsEveryCommandOtherClientsRun_AsRedisServerPrintsThem()
    {
        using RawRespClient monitor = fixture.Node.Connect();
        using RawRespClient client = fixture.Node.Connect();
        Assert.Equal("+OK", monitor.Call("MONITOR").ToString());
        client.Call("SET", "monitored", "a \"quoted\"\nvalue");
        client.Call("GET", "monitored");
        RespValue set = monitor.Read();
        RespValue get = monitor.Read();
        Assert.Matches("^\\d+\\.\\d{6} \\[0 127\\.0\\.0\\.1:\\d+\\] \"SET\" \"monitored\" \"a \\\\\"quoted\\\\\"\\\\nvalue\"$", set.Text);
        Assert.EndsWith("\"GET\" \"monitored\"", get.Text, StringComparison.Ordinal);
        Assert.Equal("+RESET", monitor.Call("RESET").ToString());
        client.Call("SET", "unmonitored", "1");
        Assert.Equal("+PONG", monitor.Call("PING").ToString());
    }
}
