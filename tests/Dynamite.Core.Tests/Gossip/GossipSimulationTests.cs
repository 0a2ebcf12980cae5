using System.Collections.Immutable;
using Dynamite.Core.Membership;
using Dynamite.Core.Gossip;
using Dynamite.Core.Peer.Messages;
using Xunit;
using Xunit.Abstractions;

namespace Dynamite.Core.Tests.Gossip;

public sealed class GossipSimulationTests(ITestOutputHelper output)
{
    private const int Q = 8;

    /// <summary>Independent runs per size; the bound must hold for each, and the worst is reported.</summary>
    private const int Seeds = 10;

    [Theory]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(256)]
    public void Round_OneNodeJoinsThroughOneSeed_ConvergesInLogarithmicRounds(int n)
    {
        int bound = (3 * (int)Math.Ceiling(Math.Log2(n))) + 3;
        var rounds = new List<int>();
        long bytes = 0;
        for (int seed = 0; seed < Seeds; seed++)
        {
            GossipSimulation network = Cluster(n, seed);
            Join(network, GossipTopology.Member(n, status: MemberStatus.Joining), seedNode: seed % n);
            rounds.Add(network.RoundsToConverge(limit: bound));
            bytes += network.BytesSent;
        }

        output.WriteLine(
            $"N={n} (+1 joining), fan-out {GossipOptions.DefaultFanOut}: rounds to converge mean {rounds.Average():F1}, max {rounds.Max()} "
            + $"(bound {bound}, log_{GossipOptions.DefaultFanOut}(N) = {Math.Log(n) / Math.Log(GossipOptions.DefaultFanOut):F1}); "
            + $"at a {GossipOptions.DefaultInterval.TotalSeconds:F0} s interval: {rounds.Max() * GossipOptions.DefaultInterval.TotalSeconds:F0} s; "
            + $"{bytes / Seeds / 1024} KiB gossiped per run");
        Assert.All(rounds, r => Assert.True(r <= bound, $"{r} rounds > {bound}"));
    }

    [Fact]
    public void Round_FiveNodesThroughAWholeJoin_EveryStepConvergesWellUnderFiveSeconds()
    {
        // The full story on 5 nodes: join via a seed, the claimant plans, the new owner completes
        // every copy, the claimant promotes it; each change is gossiped until all agree.
        GossipSimulation network = Cluster(5, seed: 42);
        MemberRecord joiner = GossipTopology.Member(5, status: MemberStatus.Joining);
        int joinerIndex = Join(network, joiner, seedNode: 3);
        var perChange = new List<int> { network.RoundsToConverge(limit: 12) };

        ClaimResult plan = Claimant.Step(network.StateOf(0), network.StateOf(0).Claimant!.Value, 3);
        network.Set(0, plan.State);
        perChange.Add(network.RoundsToConverge(limit: 12));

        // Every node that gains a replica reports ready on its own copy of the state; gossip spreads the reports.
        RingState ring = network.StateOf(joinerIndex).Ring!;
        ImmutableSortedSet<NodeId> gainers = HandoffPlan.Gainers(ring.Current, ring.Pending!, 3);
        for (int i = 0; i < network.Count; i++)
        {
            NodeId id = i == joinerIndex ? joiner.Id : GossipTopology.Member(i).Id;
            if (gainers.Contains(id))
            {
                network.Set(i, ClusterTransitions.ReportReady(network.StateOf(i), id, ring));
            }
        }

        perChange.Add(network.RoundsToConverge(limit: 12));

        ClaimResult finish = Claimant.Step(network.StateOf(0), network.StateOf(0).Claimant!.Value, 3);
        network.Set(0, finish.State);
        perChange.Add(network.RoundsToConverge(limit: 12));

        ClusterState final = network.StateOf(4);
        output.WriteLine($"5 nodes + 1: rounds per change (join, plan of {plan.Moves} moves [ideal {plan.IdealMoves}], copies complete, promotion): {string.Join(", ", perChange)}; ring v{final.RingVersion}, digest {final.Digest:x16}");
        Assert.True(finish.Changed);
        Assert.Equal(MemberStatus.Up, final.GetMember(joiner.Id).Status);
        Assert.Empty(final.PendingTransfers);
        Assert.All(perChange, r => Assert.True(r * GossipOptions.DefaultInterval < TimeSpan.FromSeconds(5), $"{r} rounds"));
    }

    private static GossipSimulation Cluster(int n, int seed)
    {
        ClusterState initial = ClusterState.Bootstrap(GossipTopology.Members(n), Q);
        var network = new GossipSimulation(seed);
        for (int i = 0; i < n; i++)
        {
            network.Add(GossipTopology.Member(i).Id, initial);
        }

        return network;
    }

    /// <summary>The newcomer knows nothing but one seed: JoinRequest, JoinReply.</summary>
    private static int Join(GossipSimulation network, MemberRecord newcomer, int seedNode)
    {
        GossipStep atSeed = GossipRound.Receive(network.StateOf(seedNode), new JoinRequest(newcomer));
        network.Set(seedNode, atSeed.State);
        return network.Add(newcomer.Id, GossipRound.Receive(ClusterState.Empty, atSeed.Reply!).State);
    }
}
