using System.Collections.Concurrent;
using Dynamite.Cluster.Membership;
using Dynamite.Core.Membership;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Dynamite.Cluster.Tests.Membership;

public sealed class FailureDetectorLoopTests
{
    private static readonly NodeId A = new("a");
    private static readonly NodeId B = new("b");
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ProbeRound_AnsweringAndRefusingPeers_UpAndDown()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000));
        var changes = new List<(NodeId, PeerHealth, PeerHealth)>();
        await using var loop = new FailureDetectorLoop(new PeerHealthTracker(), (peer, _) => Task.FromResult(peer == A), clock);
        loop.PeerHealthChanged += (peer, old, health) => changes.Add((peer, old, health));
        loop.AddPeer(A);
        loop.AddPeer(B);

        for (int i = 0; i < 3; i++)
        {
            loop.ProbeRound(CancellationToken.None);
            clock.Advance(TimeSpan.FromMilliseconds(500));
        }

        Assert.True(loop.IsReachable(A));
        Assert.Equal(PeerHealth.Down, loop.GetHealth(B));
        Assert.Equal([(B, PeerHealth.Up, PeerHealth.Down)], changes);
        IReadOnlyList<PeerHealthStatus> snapshot = loop.Snapshot();
        Assert.Equal([A, B], snapshot.Select(s => s.Peer));
        Assert.Equal(1_001_000, snapshot[0].LastHeartbeatUnixMs);
        Assert.Equal(3, snapshot[1].ConsecutiveFailures);
    }

    [Fact]
    public async Task ProbeRound_PeerComesBack_RaisesDownToUp()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        bool bAnswers = false;
        var changes = new List<(NodeId, PeerHealth, PeerHealth)>();
        await using var loop = new FailureDetectorLoop(new PeerHealthTracker(), (_, _) => Task.FromResult(bAnswers), clock);
        loop.PeerHealthChanged += (peer, old, health) => changes.Add((peer, old, health));
        loop.AddPeer(B);

        loop.ProbeRound(CancellationToken.None);
        loop.ProbeRound(CancellationToken.None);
        bAnswers = true;
        clock.Advance(TimeSpan.FromMilliseconds(500));
        loop.ProbeRound(CancellationToken.None);

        Assert.Equal([(B, PeerHealth.Up, PeerHealth.Down), (B, PeerHealth.Down, PeerHealth.Up)], changes);
        Assert.True(loop.IsReachable(B));
    }

    [Fact]
    public async Task ProbeRound_PeerGoesSilentWithPingInFlight_PhiMakesItSuspectThenDown()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        bool hang = false;
        var changes = new List<PeerHealth>();
        // Once "hang" is set the ping never returns and its timeout (5 minutes on the fake clock) is never reached,
        // so no failure is recorded: only phi, evaluated every round on the fake clock, can notice the silence.
        var loop = new FailureDetectorLoop(
            new PeerHealthTracker(),
            (_, ct) => hang ? Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => false, TaskScheduler.Default) : Task.FromResult(true),
            clock,
            pingTimeout: TimeSpan.FromMinutes(5));
        loop.PeerHealthChanged += (_, _, health) => changes.Add(health);
        loop.AddPeer(A);
        using var stopping = new CancellationTokenSource();
        for (int i = 0; i < 20; i++)
        {
            loop.ProbeRound(stopping.Token);
            clock.Advance(TimeSpan.FromMilliseconds(500));
        }

        hang = true;
        // Rounds of 50 ms: with the default 50 ms minimum deviation, Suspect lasts only about 60 ms before Down.
        for (int i = 0; i < 60; i++)
        {
            loop.ProbeRound(stopping.Token);
            clock.Advance(TimeSpan.FromMilliseconds(50));
        }

        Assert.Equal([PeerHealth.Suspect, PeerHealth.Down], changes);
        Assert.Equal(0, loop.Snapshot()[0].ConsecutiveFailures);
        await stopping.CancelAsync();
        await loop.WaitForPingsAsync().WaitAsync(Bound);
        Assert.Equal(0, loop.Snapshot()[0].ConsecutiveFailures);
    }

    [Fact]
    public async Task ProbeRound_HungPing_TimesOutAsFailureAndIsNotDuplicated()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var calls = new ConcurrentDictionary<NodeId, int>();
        await using var loop = new FailureDetectorLoop(
            new PeerHealthTracker(),
            (peer, _) =>
            {
                calls.AddOrUpdate(peer, 1, (_, n) => n + 1);
                return new TaskCompletionSource<bool>().Task; // never answers, ignores its token
            },
            clock,
            pingTimeout: TimeSpan.FromMilliseconds(50));
        loop.AddPeer(A);

        loop.ProbeRound(CancellationToken.None);
        loop.ProbeRound(CancellationToken.None);
        Assert.Equal(1, calls[A]);
        Assert.Equal(0, loop.Snapshot()[0].ConsecutiveFailures);
        // The ping timeout is a timer on the fake clock: it fires when the clock passes it, not before.
        clock.Advance(TimeSpan.FromMilliseconds(49));
        Assert.Equal(0, loop.Snapshot()[0].ConsecutiveFailures);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await loop.WaitForPingsAsync().WaitAsync(Bound);
        Assert.Equal(1, loop.Snapshot()[0].ConsecutiveFailures);

        loop.ProbeRound(CancellationToken.None);
        clock.Advance(TimeSpan.FromMilliseconds(50));
        await loop.WaitForPingsAsync().WaitAsync(Bound);

        Assert.Equal(2, calls[A]);
        Assert.Equal(PeerHealth.Down, loop.GetHealth(A));
    }

    [Fact]
    public async Task ProbeRound_PingThrows_CountsAsFailure()
    {
        await using var loop = new FailureDetectorLoop(new PeerHealthTracker(), (_, _) => throw new IOException("connection refused"), new FakeTimeProvider(DateTimeOffset.UnixEpoch));
        loop.AddPeer(A);

        loop.ProbeRound(CancellationToken.None);
        loop.ProbeRound(CancellationToken.None);

        Assert.Equal(PeerHealth.Down, loop.GetHealth(A));
    }

    [Fact]
    public async Task PeerHealthChanged_HandlerThrows_LoopKeepsWorking()
    {
        await using var loop = new FailureDetectorLoop(new PeerHealthTracker(), (_, _) => Task.FromResult(false), new FakeTimeProvider(DateTimeOffset.UnixEpoch));
        loop.PeerHealthChanged += (_, _, _) => throw new InvalidOperationException("subscriber bug");
        loop.AddPeer(A);
        loop.AddPeer(B);

        loop.ProbeRound(CancellationToken.None);
        loop.ProbeRound(CancellationToken.None);

        Assert.Equal(PeerHealth.Down, loop.GetHealth(A));
        Assert.Equal(PeerHealth.Down, loop.GetHealth(B));
    }

    [Fact]
    public async Task Start_RealTimer_DetectsDeadPeerAndStops()
    {
        var down = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int pings = 0;
        var loop = new FailureDetectorLoop(
            new PeerHealthTracker(),
            async (peer, ct) =>
            {
                Interlocked.Increment(ref pings);
                await Task.Yield();
                return peer == A;
            },
            interval: TimeSpan.FromMilliseconds(20));
        loop.PeerHealthChanged += (peer, _, health) =>
        {
            if (peer == B && health == PeerHealth.Down)
            {
                down.TrySetResult();
            }
        };
        loop.AddPeer(A);
        loop.AddPeer(B);

        loop.Start();
        await down.Task.WaitAsync(Bound);
        await loop.StopAsync().WaitAsync(Bound);
        int afterStop = Volatile.Read(ref pings);

        Assert.True(loop.IsReachable(A));
        Assert.True(afterStop >= 4);
        await loop.DisposeAsync();
        Assert.Equal(afterStop, Volatile.Read(ref pings));
    }
}
