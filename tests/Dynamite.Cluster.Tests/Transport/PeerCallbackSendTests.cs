using System.Text;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Dynamite.Cluster.Tests.Transport;

/// <summary><see cref="PeerClient.Send"/>: the callback path the coordinator's replica reads and writes use.</summary>
public sealed class PeerCallbackSendTests
{
    private static readonly TimeSpan Patience = PeerTestCluster.Patience;

    [Fact]
    public async Task Send_Connected_TheCallbackGetsTheReplyOnce()
    {
        await using var cluster = new PeerTestCluster();
        PeerClient client = cluster.Client(cluster.StartListener(PeerTestCluster.EchoHandler));
        await client.ConnectAsync().WaitAsync(Patience);
        var callback = new RecordingCallback();

        client.Send(new ReplicaGet("user:7"u8.ToArray(), new PartitionId(1)), TimeSpan.FromSeconds(30), callback);

        PeerResponse response = await callback.Response.WaitAsync(Patience);
        Assert.Equal("user:7", Encoding.UTF8.GetString(response.Read<ReplicaGetReply>().EncodedObject.Span));
        Assert.Equal(1, callback.Calls);
    }

    [Fact]
    public async Task Send_NotYetConnected_ConnectsAndDelivers()
    {
        await using var cluster = new PeerTestCluster();
        PeerClient client = cluster.Client(cluster.StartListener(PeerTestCluster.EchoHandler));
        var callback = new RecordingCallback();

        client.Send(new ReplicaGet("first"u8.ToArray(), new PartitionId(0)), TimeSpan.FromSeconds(30), callback);

        PeerResponse response = await callback.Response.WaitAsync(Patience);
        Assert.Equal("first", Encoding.UTF8.GetString(response.Read<ReplicaGetReply>().EncodedObject.Span));
    }

    [Fact]
    public async Task RequestsAnsweredInTime_FireNoTimer()
    {
        await using var cluster = new PeerTestCluster();
        PeerListener listener = cluster.StartListener(PeerTestCluster.EchoHandler);
        var clock = new FiredTimerCounter(TimeProvider.System);
        await using var client = new PeerClient(listener.LocalEndPoint!, PeerTestCluster.Options(PeerTestCluster.ClientIdentity), clock, NullLogger<PeerClient>.Instance);
        await client.ConnectAsync().WaitAsync(Patience);

        // Callback sends with a deadline (the coordinator's replica requests) and awaited sends (pings, gossip).
        for (int i = 0; i < 20; i++)
        {
            var callback = new RecordingCallback();
            client.Send(new ReplicaGet("k"u8.ToArray(), new PartitionId(0)), TimeSpan.FromSeconds(30), callback);
            await callback.Response.WaitAsync(Patience);
            await client.SendAsync(new ReplicaGet("k"u8.ToArray(), new PartitionId(0)), TimeSpan.FromSeconds(30)).WaitAsync(Patience);
        }

        // Six times the sweep's shortest interval (50 ms), far before any deadline: no sweep ran, no timer fired.
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(0, clock.Fired);
    }

    [Fact]
    public async Task Send_HandlerNeverAnswers_TheSweepReportsATimeoutAndGivesTheSlotBack()
    {
        await using var cluster = new PeerTestCluster();
        PeerListener listener = cluster.StartListener(new DelegateHandler((request, reply) =>
            request.Type == PeerMessageType.ReplicaCount ? ValueTask.CompletedTask : PeerTestCluster.EchoHandler.HandleAsync(request, reply, default)));
        PeerClient client = cluster.Client(listener, PeerTestCluster.Options(PeerTestCluster.ClientIdentity) with { MaxInFlightPerConnection = 1 });
        await client.ConnectAsync().WaitAsync(Patience);
        var stuck = new RecordingCallback();

        client.Send(ReplicaCount.Instance, TimeSpan.FromMilliseconds(100), stuck);

        Exception error = await stuck.Failure.WaitAsync(Patience);
        Assert.IsType<TimeoutException>(error);
        Assert.Equal(1, stuck.Calls);

        // The one in-flight slot is free again: the next request gets through.
        var next = new RecordingCallback();
        client.Send(new ReplicaGet("next"u8.ToArray(), new PartitionId(0)), TimeSpan.FromSeconds(30), next);
        Assert.Equal("next", Encoding.UTF8.GetString((await next.Response.WaitAsync(Patience)).Read<ReplicaGetReply>().EncodedObject.Span));
    }

    [Fact]
    public async Task Send_SlowAfterPassesWithoutAReply_OnSlowOnceThenTheReplyStillArrives()
    {
        await using var cluster = new PeerTestCluster();
        var held = new TaskCompletionSource<(ulong, IPeerReplySink)>(TaskCreationOptions.RunContinuationsAsynchronously);
        PeerListener listener = cluster.StartListener(new DelegateHandler((request, reply) =>
        {
            held.TrySetResult((request.RequestId, reply));
            return ValueTask.CompletedTask;
        }));
        PeerClient client = cluster.Client(listener);
        await client.ConnectAsync().WaitAsync(Patience);
        var callback = new RecordingCallback();

        client.Send(ReplicaCount.Instance, TimeSpan.FromSeconds(30), callback, slowAfter: TimeSpan.FromMilliseconds(10));

        await callback.Slow.WaitAsync(Patience);
        (ulong requestId, IPeerReplySink sink) = await held.Task.WaitAsync(Patience);
        sink.Reply(requestId, new ReplicaCountReply(7));
        Assert.Equal(7, (await callback.Response.WaitAsync(Patience)).Read<ReplicaCountReply>().Count);
        Assert.Equal(1, callback.SlowCalls);
        Assert.Equal(1, callback.Calls);
    }

    [Fact]
    public async Task Send_ConnectionDropsWithRequestsPending_EachCallbackGetsOneFailure()
    {
        await using var cluster = new PeerTestCluster();
        PeerListener listener = cluster.StartListener(new DelegateHandler((_, _) => ValueTask.CompletedTask));
        PeerClient client = cluster.Client(listener);
        await client.ConnectAsync().WaitAsync(Patience);
        RecordingCallback[] callbacks = [.. Enumerable.Range(0, 20).Select(_ => new RecordingCallback())];
        foreach (RecordingCallback callback in callbacks)
        {
            client.Send(new ReplicaPut("k"u8.ToArray(), "v"u8.ToArray()), TimeSpan.FromSeconds(30), callback);
        }

        await listener.DisposeAsync();

        foreach (RecordingCallback callback in callbacks)
        {
            Assert.IsType<PeerUnavailableException>(await callback.Failure.WaitAsync(Patience));
            Assert.Equal(1, callback.Calls);
        }
    }

    [Fact]
    public async Task Send_OverLimitPayload_FailsAtOnceWithoutSending()
    {
        await using var cluster = new PeerTestCluster();
        PeerClient client = cluster.Client(cluster.StartListener(PeerTestCluster.EchoHandler));
        var callback = new RecordingCallback();

        client.Send(new ReplicaGet(new byte[PeerLimits.MaxKeyBytes + 1], new PartitionId(0)), TimeSpan.FromSeconds(30), callback);

        Assert.True(callback.Failure.IsCompleted);
        Assert.IsAssignableFrom<ArgumentException>(await callback.Failure);
    }

    private sealed class RecordingCallback : IPeerResponseCallback
    {
        private readonly TaskCompletionSource<PeerResponse> _response = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<Exception> _failure = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _slow = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;
        private int _slowCalls;

        public Task<PeerResponse> Response => _response.Task;

        public Task<Exception> Failure => _failure.Task;

        public Task Slow => _slow.Task;

        public int Calls => Volatile.Read(ref _calls);

        public int SlowCalls => Volatile.Read(ref _slowCalls);

        public void OnSlow()
        {
            Interlocked.Increment(ref _slowCalls);
            _slow.TrySetResult();
        }

        public void OnResponse(PeerResponse response)
        {
            Interlocked.Increment(ref _calls);
            _response.TrySetResult(response);
        }

        public void OnFailure(Exception error)
        {
            Interlocked.Increment(ref _calls);
            _failure.TrySetResult(error);
        }
    }
}
