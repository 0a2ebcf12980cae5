using Xunit;
using Xunit.Abstractions;

namespace Dynamite.Core.Tests.Gossip;

/// <summary>The merge-law properties are only as strong as their generator: check it reaches the hard cases.</summary>
public sealed class GossipArbitrariesTests(ITestOutputHelper output)
{
    [Fact]
    public void Simulate_RandomHistories_ReachPendingPlansCompletedHandoffsAndRivalPlans()
    {
        var random = new Random(7);
        int pending = 0;
        int completed = 0;
        int rivalPlans = 0;
        int newerRing = 0;
        for (int run = 0; run < 300; run++)
        {
            int[] script = new int[random.Next(0, 60)];
            for (int i = 0; i < script.Length; i++)
            {
                script[i] = random.Next(0, 1_000_000);
            }

            ClusterStateTriple t = GossipArbitraries.Simulate(script);
            pending += t.A.Ring!.Pending is null ? 0 : 1;
            completed += t.A.Ring.Ready.IsEmpty ? 0 : 1;
            newerRing += t.A.RingVersion != t.B.RingVersion ? 1 : 0;
            rivalPlans += t.A.RingVersion == t.B.RingVersion && t.A.RingVersion > 1 && !t.A.Ring.Current.HasSameLayout(t.B.Ring!.Current) ? 1 : 0;
        }

        output.WriteLine($"of 300 histories: {pending} pending plans, {completed} with completed handoffs, {newerRing} ring version gaps, {rivalPlans} rival plans at one version");
        Assert.True(pending > 10 && completed > 10 && newerRing > 10 && rivalPlans > 0);
    }
}
