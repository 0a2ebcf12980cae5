using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer.Messages;
using Xunit;

namespace Dynamite.Core.Tests.Gossip;

public sealed class GossipRoundTests
{
    private static readonly NodeId Self = GossipTopology.Member(0).Id;

    [Fact]
    public void Start_TenMembers_SendsDigestsToThreeDistinctOtherPeers()
    {
        ClusterState state = ClusterState.Bootstrap(GossipTopology.Members(10), 6);

        IReadOnlyList<GossipSend> sends = GossipRound.Start(state, Self, new Random(1));

        Assert.Equal(GossipOptions.DefaultFanOut, sends.Count);
        Assert.Equal(3, sends.Select(s => s.To).Distinct().Count());
        Assert.DoesNotContain(sends, s => s.To == Self);
        Assert.All(sends, s => Assert.Equal(new GossipDigest(state.Digest, 1), s.Message));
    }

    [Fact]
    public void PickPeers_DownAndRemovedMembers_SkipsRemovedAndAddsOneDownPeer()
    {
        ClusterState state = ClusterState.Bootstrap(GossipTopology.Members(4), 6);
        state = ClusterTransitions.MarkDown(state, GossipTopology.Member(1).Id);
        state = ClusterTransitions.Remove(state, GossipTopology.Member(2).Id);

        for (int seed = 0; seed < 20; seed++)
        {
            Assert.Equal([GossipTopology.Member(3).Id, GossipTopology.Member(1).Id], GossipRound.PickPeers(state, Self, new Random(seed), 3));
        }
    }

    [Fact]
    public void Round_HealedPartitionWhereBothSidesMarkedTheOtherDown_Reconverges()
    {
        // Nodes 0-1 and 2-3 each marked the other side Down; gossip to the dead reconnects them and
        // the refutations (MarkUp by each node of itself) win.
        ClusterState initial = ClusterState.Bootstrap(GossipTopology.Members(4), 6);
        ClusterState left = ClusterTransitions.MarkDown(ClusterTransitions.MarkDown(initial, GossipTopology.Member(2).Id), GossipTopology.Member(3).Id);
        ClusterState right = ClusterTransitions.MarkDown(ClusterTransitions.MarkDown(initial, GossipTopology.Member(0).Id), GossipTopology.Member(1).Id);
        var network = new GossipSimulation(seed: 3);
        for (int i = 0; i < 4; i++)
        {
            network.Add(GossipTopology.Member(i).Id, i < 2 ? left : right);
        }

        for (int round = 0; round < 10 && !(network.Converged() && network.StateOf(0).Members.Values.All(m => m.Status == MemberStatus.Up)); round++)
        {
            network.Round();
            for (int i = 0; i < 4; i++)
            {
                network.Set(i, ClusterTransitions.MarkUp(network.StateOf(i), GossipTopology.Member(i).Id));
            }
        }

        Assert.True(network.Converged());
        Assert.All(network.StateOf(0).Members.Values, m => Assert.Equal(MemberStatus.Up, m.Status));
    }

    [Fact]
    public void Receive_EqualDigest_RepliesNothing()
    {
        ClusterState state = ClusterState.Bootstrap(GossipTopology.Members(3), 6);
        GossipStep step = GossipRound.Receive(state, new GossipDigest(state.Digest, state.RingVersion));
        Assert.Same(state, step.State);
        Assert.Null(step.Reply);
    }

    [Fact]
    public void Exchange_DifferentStates_EndsWithBothMergedInTwoStateMessages()
    {
        ClusterState a = ClusterState.Bootstrap(GossipTopology.Members(3), 6);
        ClusterState b = ClusterTransitions.MarkDown(a, GossipTopology.Member(2).Id);
        a = ClusterTransitions.Leave(a, GossipTopology.Member(1).Id);

        GossipStep atB = GossipRound.Receive(b, new GossipDigest(a.Digest, a.RingVersion));
        GossipStep atA = GossipRound.Receive(a, Assert.IsType<GossipState>(atB.Reply));
        GossipStep atBAgain = GossipRound.Receive(atB.State, Assert.IsType<GossipState>(atA.Reply));

        Assert.Null(atBAgain.Reply);
        Assert.Equal(a.Merge(b), atA.State);
        Assert.Equal(atA.State, atBAgain.State);
    }

    [Fact]
    public void Join_NewNodeWithNothing_LearnsTheWholeClusterFromOneSeed()
    {
        ClusterState seed = ClusterState.Bootstrap(GossipTopology.Members(5), 8);
        MemberRecord newcomer = GossipTopology.Member(9, status: MemberStatus.Joining);

        GossipStep atSeed = GossipRound.Receive(seed, new JoinRequest(newcomer));
        GossipStep atNewcomer = GossipRound.Receive(ClusterState.Empty, Assert.IsType<JoinReply>(atSeed.Reply));

        Assert.Equal(atSeed.State, atNewcomer.State);
        Assert.Equal(6, atNewcomer.State.Members.Count);
        Assert.Equal(MemberStatus.Joining, atNewcomer.State.GetMember(newcomer.Id).Status);
        Assert.True(seed.Owners!.HasSameLayout(atNewcomer.State.Owners!));
    }

    [Fact]
    public void Receive_NotAGossipMessage_Throws()
    {
        Assert.Throws<ArgumentException>(() => GossipRound.Receive(ClusterState.Empty, new Ping(1)));
    }
}
