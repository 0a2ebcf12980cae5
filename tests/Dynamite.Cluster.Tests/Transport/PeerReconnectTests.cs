using System.Net;
using System.Net.Sockets;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Peer.Messages;
using Xunit;

namespace Dynamite.Cluster.Tests.Transport;

public sealed class PeerReconnectTests
{
    private static readonly TimeSpan Patience = PeerTestCluster.Patience;

    [Fact]
    public async Task SendAsync_ListenerStoppedThenRestartedOnTheSamePort_ReconnectsAndSucceeds()
    {
        await using var cluster = new PeerTestCluster();
        PeerListener first = cluster.StartListener(PeerTestCluster.EchoHandler);
        int port = first.LocalEndPoint!.Port;
        PeerClient client = cluster.Client(first);
        Assert.Equal(42, (await client.SendAsync(ReplicaCount.Instance)).Read<ReplicaCountReply>().Count);

        await first.StopAsync().WaitAsync(Patience);
        await Assert.ThrowsAsync<PeerUnavailableException>(() => client.SendAsync(ReplicaCount.Instance));
        Assert.False(client.IsConnected);

        cluster.StartListener(PeerTestCluster.EchoHandler, port: port);
        PeerResponse response = await client.SendAsync(ReplicaCount.Instance);

        Assert.Equal(42, response.Read<ReplicaCountReply>().Count);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task SendAsync_ConnectionDropsWithRequestsInFlight_EveryOneFailsWithPeerUnavailable()
    {
        await using var cluster = new PeerTestCluster();
        int arrived = 0;
        var allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        PeerListener listener = cluster.StartListener(new DelegateHandler((_, _) =>
        {
            if (Interlocked.Increment(ref arrived) == 5)
            {
                allArrived.SetResult();
            }

            return ValueTask.CompletedTask; // never replies
        }));
        PeerClient client = cluster.Client(listener);

        Task<PeerResponse>[] pending = Enumerable.Range(0, 5).Select(_ => client.SendAsync(ReplicaCount.Instance)).ToArray();
        await allArrived.Task.WaitAsync(Patience);
        await listener.StopAsync().WaitAsync(Patience);

        foreach (Task<PeerResponse> request in pending)
        {
            var exception = await Assert.ThrowsAsync<PeerUnavailableException>(() => request.WaitAsync(Patience));
            Assert.Contains("closed the connection", exception.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SendAsync_DuringTheBackOffAfterAFailedConnect_FailsFastWithoutConnecting()
    {
        await using var cluster = new PeerTestCluster();
        int port = UnusedPort();
        PeerClient client = cluster.Client(
            new IPEndPoint(IPAddress.Loopback, port),
            PeerTestCluster.Options(PeerTestCluster.ClientIdentity) with
            {
                ReconnectBackoffInitial = TimeSpan.FromMinutes(1),
                ReconnectBackoffMax = TimeSpan.FromMinutes(1),
            });

        var refused = await Assert.ThrowsAsync<PeerUnavailableException>(() => client.SendAsync(ReplicaCount.Instance));
        Assert.Contains("ConnectionRefused", refused.Message, StringComparison.Ordinal);

        // A listener appears, but the back-off (1 minute, beyond the request's 5 s) is not over: fail fast.
        cluster.StartListener(PeerTestCluster.EchoHandler, port: port);
        var backingOff = await Assert.ThrowsAsync<PeerUnavailableException>(() => client.SendAsync(ReplicaCount.Instance).WaitAsync(Patience));
        Assert.Contains("next connect attempt in", backingOff.Message, StringComparison.Ordinal);
    }

    private static int UnusedPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
