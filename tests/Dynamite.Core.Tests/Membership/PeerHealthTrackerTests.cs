using Dynamite.Core.Membership;
using Xunit;

namespace Dynamite.Core.Tests.Membership;

public sealed class PeerHealthTrackerTests
{
    private static readonly NodeId A = new("a");
    private static readonly NodeId B = new("b");

    [Fact]
    public void PeerHealth_Values_ArePinned()
    {
        // Shown by INFO and the admin API and carried in gossip: append-only, never renumbered.
        Assert.Equal(1, (byte)PeerHealth.Up);
        Assert.Equal(2, (byte)PeerHealth.Suspect);
        Assert.Equal(3, (byte)PeerHealth.Down);
        Assert.Equal(3, Enum.GetValues<PeerHealth>().Length);
        Assert.Equal(sizeof(byte), System.Runtime.InteropServices.Marshal.SizeOf(Enum.GetUnderlyingType(typeof(PeerHealth))));
    }

    [Fact]
    public void AddPeer_NewPeer_StartsUp()
    {
        var tracker = new PeerHealthTracker();

        Assert.True(tracker.AddPeer(A));
        Assert.False(tracker.AddPeer(A));

        Assert.Equal(PeerHealth.Up, tracker.GetHealth(A));
        Assert.True(tracker.IsReachable(A));
        Assert.Empty(tracker.Evaluate(1_000_000));
        Assert.Equal(PeerHealth.Up, tracker.GetHealth(A));
    }

    [Fact]
    public void GetHealth_UnknownPeer_IsDown()
    {
        var tracker = new PeerHealthTracker();

        Assert.Equal(PeerHealth.Down, tracker.GetHealth(A));
        Assert.False(tracker.IsReachable(A));
    }

    [Fact]
    public void Evaluate_RegularHeartbeats_StaysUpWithLowPhi()
    {
        var tracker = new PeerHealthTracker();
        long now = 0;
        for (int i = 0; i < 200; i++)
        {
            // Jitter of ±40 ms around a 500 ms interval.
            now += 460 + (i * 37 % 80);
            Assert.Null(tracker.RecordSuccess(A, now));
            Assert.Empty(tracker.Evaluate(now + 250));
        }

        PeerHealthStatus status = Assert.Single(tracker.Snapshot(now + 250));
        Assert.Equal(PeerHealth.Up, status.Health);
        Assert.True(status.Phi < 1, $"phi {status.Phi}");
        Assert.Equal(now, status.LastHeartbeatUnixMs);
        Assert.Equal(0, status.ConsecutiveFailures);
    }

    [Fact]
    public void Evaluate_Silence_GoesThroughSuspectToDown()
    {
        var tracker = new PeerHealthTracker();
        long now = 0;
        for (int i = 0; i < 20; i++)
        {
            tracker.RecordSuccess(A, now += 500);
        }

        long last = now;
        var seen = new List<PeerHealthTransition>();
        long suspectAt = 0;
        long downAt = 0;
        for (now = last; now < last + 10_000; now += 10)
        {
            foreach (PeerHealthTransition change in tracker.Evaluate(now))
            {
                seen.Add(change);
                if (change.New == PeerHealth.Suspect)
                {
                    suspectAt = now;
                }
                else if (change.New == PeerHealth.Down)
                {
                    downAt = now;
                }
            }
        }

        Assert.Equal([new(A, PeerHealth.Up, PeerHealth.Suspect), new(A, PeerHealth.Suspect, PeerHealth.Down)], seen);
        // Mean 500 + acceptable pause 1000, so nothing before 1.5 s of silence; both within 2 s.
        Assert.InRange(suspectAt - last, 1_500, 2_000);
        Assert.InRange(downAt - last, suspectAt - last + 10, 2_000);
        Assert.False(tracker.IsReachable(A));
    }

    [Fact]
    public void Evaluate_OnlyTheSilentPeer_IsMarked()
    {
        var tracker = new PeerHealthTracker();
        long now = 0;
        for (int i = 0; i < 20; i++)
        {
            now += 500;
            tracker.RecordSuccess(A, now);
            tracker.RecordSuccess(B, now);
        }

        for (int i = 0; i < 10; i++)
        {
            now += 500;
            tracker.RecordSuccess(B, now);
            tracker.Evaluate(now);
        }

        Assert.Equal(PeerHealth.Down, tracker.GetHealth(A));
        Assert.Equal(PeerHealth.Up, tracker.GetHealth(B));
    }

    [Fact]
    public void RecordFailure_ConsecutiveFailures_DownAtOnce()
    {
        var tracker = new PeerHealthTracker();
        tracker.RecordSuccess(A, 1_000);

        Assert.Null(tracker.RecordFailure(A, 1_100));
        Assert.Equal(PeerHealth.Up, tracker.GetHealth(A));
        Assert.Equal(new PeerHealthTransition(A, PeerHealth.Up, PeerHealth.Down), tracker.RecordFailure(A, 1_200));
        Assert.Equal(PeerHealth.Down, tracker.GetHealth(A));
        Assert.Null(tracker.RecordFailure(A, 1_300));
        Assert.Equal(3, tracker.Snapshot(1_300)[0].ConsecutiveFailures);
    }

    [Fact]
    public void RecordFailure_SuccessInBetween_ResetsTheCount()
    {
        var tracker = new PeerHealthTracker(new PeerHealthOptions { FailuresToDown = 3 });

        tracker.RecordFailure(A, 0);
        tracker.RecordFailure(A, 1);
        tracker.RecordSuccess(A, 2);
        tracker.RecordFailure(A, 3);
        tracker.RecordFailure(A, 4);

        Assert.Equal(PeerHealth.Up, tracker.GetHealth(A));
        Assert.NotNull(tracker.RecordFailure(A, 5));
        Assert.Equal(PeerHealth.Down, tracker.GetHealth(A));
    }

    [Fact]
    public void RecordFailure_PeerNeverAnswered_GoesDown()
    {
        var tracker = new PeerHealthTracker();
        tracker.AddPeer(A);

        tracker.RecordFailure(A, 500);
        tracker.RecordFailure(A, 1_000);

        Assert.Equal(PeerHealth.Down, tracker.GetHealth(A));
        Assert.Null(tracker.Snapshot(1_000)[0].LastHeartbeatUnixMs);
    }

    [Fact]
    public void RecordSuccess_AfterDown_IsUp()
    {
        var tracker = new PeerHealthTracker();
        tracker.RecordSuccess(A, 0);
        tracker.RecordFailure(A, 500);
        tracker.RecordFailure(A, 1_000);

        PeerHealthTransition? change = tracker.RecordSuccess(A, 1_500);

        Assert.Equal(new PeerHealthTransition(A, PeerHealth.Down, PeerHealth.Up), change);
        Assert.True(tracker.IsReachable(A));
        Assert.Equal(0, tracker.Snapshot(1_500)[0].ConsecutiveFailures);
        Assert.Empty(tracker.Evaluate(1_600));
    }

    [Fact]
    public void RecordSuccess_AfterSilenceDown_IsUpAndPhiLow()
    {
        var tracker = new PeerHealthTracker();
        long now = 0;
        for (int i = 0; i < 10; i++)
        {
            tracker.RecordSuccess(A, now += 500);
        }

        tracker.Evaluate(now + 60_000);
        Assert.Equal(PeerHealth.Down, tracker.GetHealth(A));

        Assert.NotNull(tracker.RecordSuccess(A, now + 60_000));
        Assert.Equal(PeerHealth.Up, tracker.GetHealth(A));
        Assert.True(tracker.Snapshot(now + 60_000)[0].Phi < 1);
    }

    [Fact]
    public void Snapshot_SeveralPeers_OrderedById()
    {
        var tracker = new PeerHealthTracker();
        tracker.AddPeer(B);
        tracker.AddPeer(A);

        Assert.Equal([A, B], tracker.Snapshot(0).Select(s => s.Peer));
        Assert.True(tracker.RemovePeer(B));
        Assert.Equal([A], tracker.Peers);
    }

    [Fact]
    public void Constructor_DownBelowSuspect_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PeerHealthTracker(new PeerHealthOptions { SuspectThreshold = 9, DownThreshold = 8 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PeerHealthTracker(new PeerHealthOptions { FailuresToDown = 0 }));
    }
}
