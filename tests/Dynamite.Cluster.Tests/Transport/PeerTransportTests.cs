using System.Text;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Xunit;

namespace Dynamite.Cluster.Tests.Transport;

public sealed class PeerTransportTests
{
    private static readonly TimeSpan Patience = PeerTestCluster.Patience;

    [Fact]
    public async Task SendAsync_ReplicaGet_ReturnsTheHandlersReplyAndBothSidesKnowEachOther()
    {
        await using var cluster = new PeerTestCluster();
        PeerIdentity? seenRemote = null;
        PeerListener listener = cluster.StartListener(new DelegateHandler((request, reply) =>
        {
            seenRemote = request.Remote;
            return PeerTestCluster.EchoHandler.HandleAsync(request, reply, default);
        }));
        PeerClient client = cluster.Client(listener);

        PeerResponse response = await client.SendAsync(new ReplicaGet("user:1"u8.ToArray(), new PartitionId(3)));

        ReplicaGetReply reply = response.Read<ReplicaGetReply>();
        Assert.Equal(ReplicaGetStatus.Found, reply.Status);
        Assert.Equal("user:1", Encoding.UTF8.GetString(reply.EncodedObject.Span));
        Assert.Equal(PeerTestCluster.ServerIdentity, client.RemoteIdentity);
        Assert.Equal(PeerTestCluster.ServerIdentity, response.From);
        Assert.Equal(PeerTestCluster.ClientIdentity, seenRemote);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task SendAsync_Ping_IsAnsweredByTheTransportWithoutTheHandler()
    {
        await using var cluster = new PeerTestCluster();
        int handled = 0;
        PeerListener listener = cluster.StartListener(new DelegateHandler((_, _) =>
        {
            Interlocked.Increment(ref handled);
            return ValueTask.CompletedTask;
        }));
        PeerClient client = cluster.Client(listener);

        PeerResponse response = await client.SendAsync(new Ping(77));

        Assert.Equal(77UL, response.Read<Pong>().Sequence);
        Assert.Equal(0, handled);
    }

    [Fact]
    public async Task SendAsync_1000ConcurrentRequestsAnsweredInReverseOrder_AllCompleteWithTheirOwnReply()
    {
        const int Count = 1000;
        await using var cluster = new PeerTestCluster();
        var held = new List<(ulong RequestId, byte[] Key, IPeerReplySink Reply)>();
        PeerListener listener = cluster.StartListener(new DelegateHandler((request, reply) =>
        {
            List<(ulong, byte[], IPeerReplySink)>? release = null;
            lock (held)
            {
                held.Add((request.RequestId, request.Read<ReplicaGet>().Key.ToArray(), reply));
                if (held.Count == Count)
                {
                    release = [.. held];
                }
            }

            // Only once all 1000 are in flight at once: answer them last to first.
            if (release is not null)
            {
                for (int i = release.Count - 1; i >= 0; i--)
                {
                    (ulong id, byte[] key, IPeerReplySink sink) = release[i];
                    sink.Reply(id, new ReplicaGetReply(ReplicaGetStatus.Found, key));
                }
            }

            return ValueTask.CompletedTask;
        }));
        PeerClient client = cluster.Client(listener);
        await client.ConnectAsync();

        Task<PeerResponse>[] sends = new Task<PeerResponse>[Count];
        for (int i = 0; i < Count; i++)
        {
            sends[i] = client.SendAsync(new ReplicaGet(Encoding.UTF8.GetBytes("key:" + i), new PartitionId(i % 16)));
        }

        PeerResponse[] responses = await Task.WhenAll(sends).WaitAsync(Patience);

        for (int i = 0; i < Count; i++)
        {
            Assert.Equal("key:" + i, Encoding.UTF8.GetString(responses[i].Read<ReplicaGetReply>().EncodedObject.Span));
        }

        Assert.Equal(Count, responses.Select(r => r.RequestId).Distinct().Count());
    }

    [Fact]
    public async Task SendAsync_HandlerNeverAnswers_TimesOutAloneAndTheLateReplyIsIgnored()
    {
        await using var cluster = new PeerTestCluster();
        var stuck = new TaskCompletionSource<(ulong, IPeerReplySink)>(TaskCreationOptions.RunContinuationsAsynchronously);
        PeerListener listener = cluster.StartListener(new DelegateHandler((request, reply) =>
        {
            if (request.Type == PeerMessageType.ReplicaCount)
            {
                stuck.TrySetResult((request.RequestId, reply));
                return ValueTask.CompletedTask;
            }

            return PeerTestCluster.EchoHandler.HandleAsync(request, reply, default);
        }));
        PeerClient client = cluster.Client(listener);

        // Connect first, so the short timeout below covers only the request, not the handshake (slow under load).
        await client.ConnectAsync().WaitAsync(Patience);
        var exception = await Assert.ThrowsAsync<TimeoutException>(() => client.SendAsync(ReplicaCount.Instance, TimeSpan.FromMilliseconds(150)));
        Assert.Contains("timed out after 150 ms", exception.Message, StringComparison.Ordinal);

        // The late reply arrives on the same connection, then a new request gets its own reply, not the stale one.
        (ulong staleId, IPeerReplySink sink) = await stuck.Task.WaitAsync(Patience);
        sink.Reply(staleId, new ReplicaCountReply(-1));
        PeerResponse response = await client.SendAsync(new ReplicaGet("after"u8.ToArray(), new PartitionId(0)));
        Assert.Equal("after", Encoding.UTF8.GetString(response.Read<ReplicaGetReply>().EncodedObject.Span));
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task SendAsync_MoreRequestsThanInFlightSlots_WaitsForASlotInsteadOfDropping()
    {
        await using var cluster = new PeerTestCluster();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int arrived = 0;
        PeerListener listener = cluster.StartListener(new DelegateHandler(async (request, reply) =>
        {
            Interlocked.Increment(ref arrived);
            await gate.Task;
            reply.Reply(request.RequestId, new ReplicaPutAck(ReplicaPutStatus.Stored));
        }));
        PeerClient client = cluster.Client(listener, PeerTestCluster.Options(PeerTestCluster.ClientIdentity) with { MaxInFlightPerConnection = 2 });

        Task<PeerResponse> first = client.SendAsync(new ReplicaPut("a"u8.ToArray(), "1"u8.ToArray()));
        Task<PeerResponse> second = client.SendAsync(new ReplicaPut("b"u8.ToArray(), "2"u8.ToArray()));
        await Assert.ThrowsAsync<TimeoutException>(() => client.SendAsync(new ReplicaPut("c"u8.ToArray(), "3"u8.ToArray()), TimeSpan.FromMilliseconds(150)));
        Task<PeerResponse> third = client.SendAsync(new ReplicaPut("d"u8.ToArray(), "4"u8.ToArray()));
        Assert.False(third.IsCompleted);

        gate.SetResult();

        foreach (PeerResponse response in await Task.WhenAll(first, second, third).WaitAsync(Patience))
        {
            Assert.Equal(ReplicaPutStatus.Stored, response.Read<ReplicaPutAck>().Status);
        }

        Assert.Equal(3, Volatile.Read(ref arrived));
    }

    [Fact]
    public async Task Listener_MoreRequestsThanItsInFlightLimit_StopsReadingAndServesThemAllWithinTheLimit()
    {
        await using var cluster = new PeerTestCluster();
        int active = 0;
        int maxActive = 0;
        PeerTransportOptions options = PeerTestCluster.Options(PeerTestCluster.ServerIdentity) with { MaxInFlightPerConnection = 2 };
        PeerListener listener = cluster.StartListener(
            new DelegateHandler(async (request, reply) =>
            {
                int now = Interlocked.Increment(ref active);
                InterlockedMax(ref maxActive, now);
                await Task.Delay(20); // the handler's "work"; the limit must hold while it runs
                Interlocked.Decrement(ref active);
                reply.Reply(request.RequestId, new ReplicaPutAck(ReplicaPutStatus.Stored));
            }),
            options);
        PeerClient client = cluster.Client(listener);

        Task<PeerResponse>[] sends = Enumerable.Range(0, 10)
            .Select(i => client.SendAsync(new ReplicaPut(Encoding.UTF8.GetBytes("k" + i), "v"u8.ToArray())))
            .ToArray();
        PeerResponse[] responses = await Task.WhenAll(sends).WaitAsync(Patience);

        Assert.All(responses, r => Assert.Equal(ReplicaPutStatus.Stored, r.Read<ReplicaPutAck>().Status));
        Assert.InRange(Volatile.Read(ref maxActive), 1, 2);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value > seen)
        {
            int previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    [Fact]
    public async Task SendAsync_HandlerThrows_GetsAnErrorReplyAndTheConnectionStays()
    {
        await using var cluster = new PeerTestCluster();
        PeerListener listener = cluster.StartListener(new DelegateHandler((request, reply) =>
            request.Type == PeerMessageType.ReplicaCount
                ? throw new InvalidOperationException("disk on fire")
                : PeerTestCluster.EchoHandler.HandleAsync(request, reply, default)));
        PeerClient client = cluster.Client(listener);

        PeerResponse failed = await client.SendAsync(ReplicaCount.Instance);
        var exception = Assert.Throws<PeerRemoteException>(() => failed.Read<ReplicaCountReply>());
        Assert.Equal(PeerErrorCode.Internal, exception.Code);
        Assert.Contains("disk on fire", exception.Message, StringComparison.Ordinal);

        PeerResponse ok = await client.SendAsync(new ReplicaPut("k"u8.ToArray(), "v"u8.ToArray()));
        Assert.Equal(ReplicaPutStatus.Stored, ok.Read<ReplicaPutAck>().Status);
    }

    [Fact]
    public async Task SendAsync_UnknownMessageType_GetsAnErrorReplyAndTheConnectionStays()
    {
        await using var cluster = new PeerTestCluster();
        PeerListener listener = cluster.StartListener(PeerTestCluster.EchoHandler);
        PeerClient client = cluster.Client(listener);

        PeerResponse response = await client.SendAsync(new PeerRawPayload((PeerMessageType)200, new byte[] { 1, 2, 3 }));
        Assert.Equal(PeerErrorCode.UnknownMessageType, Assert.Throws<PeerRemoteException>(() => response.Read<Pong>()).Code);

        Assert.Equal(42, (await client.SendAsync(ReplicaCount.Instance)).Read<ReplicaCountReply>().Count);
    }

    [Fact]
    public async Task SendAsync_LargeObject_RoundTrips()
    {
        await using var cluster = new PeerTestCluster();
        PeerListener listener = cluster.StartListener(PeerTestCluster.EchoHandler);
        PeerClient client = cluster.Client(listener);
        byte[] key = new byte[3 * 1024 * 1024];
        new Random(7).NextBytes(key);

        PeerResponse response = await client.SendAsync(new ReplicaGet(key, new PartitionId(1)));

        Assert.Equal(key, response.Read<ReplicaGetReply>().EncodedObject.ToArray());
    }
}
