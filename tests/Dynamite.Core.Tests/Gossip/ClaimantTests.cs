using System.Collections.Immutable;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;
using Xunit;
using Xunit.Abstractions;

namespace Dynamite.Core.Tests.Gossip;

public sealed class ClaimantTests(ITestOutputHelper output)
{
    private const int Q = 8;
    private const int N = 3;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Step_FourthNodeJoinsThree_MovesCloseToTheMinimumKeepingBalanceAndRacks(int racks)
    {
        ClusterState state = ClusterState.Bootstrap(GossipTopology.Members(3, racks), Q);
        PartitionMap before = state.Owners!;
        MemberRecord joiner = GossipTopology.Member(3, racks, MemberStatus.Joining);
        state = ClusterTransitions.Join(state, joiner);

        ClaimResult plan = Claimant.Step(state, state.Claimant!.Value, N);

        output.WriteLine($"racks={racks}: join 3 -> 4 at Q={Q} moves {plan.Moves} partitions, ideal {plan.IdealMoves}");
        Assert.True(plan.Changed);
        Assert.Equal(64, plan.IdealMoves);
        Assert.True(plan.Moves <= 1.1 * plan.IdealMoves, $"{plan.Moves} moves for an ideal of {plan.IdealMoves}");
        Assert.Equal(plan.Moves, plan.State.PendingTransfers.Count);
        Assert.All(plan.State.PendingTransfers, t => Assert.Equal(joiner.Id, t.To));

        ClusterState done = CompleteAll(plan.State);
        PartitionMap after = done.Owners!;
        Assert.Equal(MemberStatus.Up, done.GetMember(joiner.Id).Status);
        Assert.True(after.HasSameLayout(PartitionClaim.Rebalance(before, [.. after.Members])));
        int min = after.Members.Min(m => after.CountOwnedBy(m.Id));
        int max = after.Members.Max(m => after.CountOwnedBy(m.Id));
        Assert.True(max <= 1.1 * min, $"owned counts {min}..{max}");
        if (racks == 3)
        {
            int spread = DistinctRackPreferenceLists(after);
            output.WriteLine($"preference lists (N=3) on 3 distinct racks: {spread}/{after.PartitionCount} (before: {DistinctRackPreferenceLists(before)})");
            Assert.True(spread >= 0.9 * after.PartitionCount, $"{spread} of {after.PartitionCount} preference lists span three racks");
        }
    }

    [Fact]
    public void ReportReady_UntilEveryGainerIsReady_CurrentOwnersKeepServing()
    {
        ClusterState state = ClusterTransitions.Join(ClusterState.Bootstrap(GossipTopology.Members(5), Q), GossipTopology.Member(5, status: MemberStatus.Joining));
        PartitionMap before = state.Owners!;
        state = Claimant.Step(state, state.Claimant!.Value, N).State;
        RingState ring = state.Ring!;
        ImmutableSortedSet<NodeId> gainers = HandoffPlan.Gainers(ring.Current, ring.Pending!, N);
        NodeId joiner = GossipTopology.Member(5).Id;

        // The joiner gains replicas; with N = 3 of 6 nodes, shifted walks make some old members gain too.
        output.WriteLine($"gainers: {string.Join(", ", gainers)}; joiner gains {HandoffPlan.GainedBy(ring.Current, ring.Pending!, joiner, N).Count} partitions");
        Assert.Contains(joiner, gainers);
        Assert.True(ClusterTransitions.IsWarmingUp(state, joiner, N));
        Assert.Same(before, state.Owners);

        ClusterState afterJoiner = ClusterTransitions.ReportReady(state, joiner, ring);
        Assert.Same(before, afterJoiner.Owners);

        // Others still copying: the claimant waits.
        Assert.True(gainers.Count > 1, "a 5 -> 6 join also makes old members gain replicas");
        Assert.False(Claimant.Step(afterJoiner, afterJoiner.Claimant!.Value, N).Changed);

        // A report for another plan (an older one, or a rival at the same version), or a repeated one, changes nothing.
        Assert.Same(afterJoiner, ClusterTransitions.ReportReady(afterJoiner, joiner, ring.Plan(ring.Current, ring.Pending)));
        RingState other = ClusterState.Bootstrap(GossipTopology.Members(6), Q).Ring!;
        RingState rival = other.Plan(other.Current, null);
        Assert.Equal(ring.Version, rival.Version);
        Assert.Same(afterJoiner, ClusterTransitions.ReportReady(afterJoiner, joiner, rival));
        Assert.Same(afterJoiner, ClusterTransitions.ReportReady(afterJoiner, joiner, ring));

        ClusterState allReady = afterJoiner;
        foreach (NodeId gainer in gainers)
        {
            allReady = ClusterTransitions.ReportReady(allReady, gainer, ring);
        }

        ClaimResult finish = Claimant.Step(allReady, allReady.Claimant!.Value, N);
        Assert.True(finish.Changed);
        Assert.Same(ring.Pending, finish.State.Owners);
        Assert.Equal(MemberStatus.Up, finish.State.GetMember(joiner).Status);
    }

    [Fact]
    public void GainedBy_EveryNewReplicaOfEveryPartition_IsAGainOfItsNode()
    {
        ClusterState state = ClusterTransitions.Leave(ClusterState.Bootstrap(GossipTopology.Members(6, racks: 3), Q), GossipTopology.Member(2, racks: 3).Id);
        state = Claimant.Step(state, state.Claimant!.Value, N).State;
        PartitionMap current = state.Ring!.Current;
        PartitionMap pending = state.Ring.Pending!;

        int gains = 0;
        for (int p = 0; p < pending.PartitionCount; p++)
        {
            var partition = new PartitionId(p);
            ImmutableArray<NodeId> before = PreferenceListBuilder.PrimariesOf(current, partition, "dc1", N);
            foreach (NodeId replica in PreferenceListBuilder.PrimariesOf(pending, partition, "dc1", N).Where(r => !before.Contains(r)))
            {
                Assert.Contains(partition, HandoffPlan.GainedBy(current, pending, replica, N));
                Assert.Contains(replica, HandoffPlan.Gainers(current, pending, N));
                gains++;
            }
        }

        int total = pending.Members.Sum(m => HandoffPlan.GainedBy(current, pending, m.Id, N).Count);
        output.WriteLine($"6 nodes, one leaves: {gains} partition copies to make, {HandoffPlan.Gainers(current, pending, N).Count} nodes gain");
        Assert.Equal(gains, total);
        Assert.True(gains > 0);
    }

    [Theory]
    [InlineData(5, 0)]
    [InlineData(5, 4)]
    [InlineData(7, 3)]
    public void Step_NodeLeaves_HandsItsPartitionsToOthersThenRemovesIt(int count, int leaving)
    {
        ClusterState state = ClusterState.Bootstrap(GossipTopology.Members(count), Q);
        NodeId leaver = GossipTopology.Member(leaving).Id;
        int owned = state.Owners!.CountOwnedBy(leaver);
        state = ClusterTransitions.Leave(state, leaver);

        ClaimResult plan = Claimant.Step(state, state.Claimant!.Value, N);
        output.WriteLine($"{count} nodes, {leaver} leaves: moves {plan.Moves}, ideal {plan.IdealMoves} ({owned} owned)");
        Assert.Equal(owned, plan.IdealMoves);
        Assert.InRange(plan.Moves, owned, owned + 3);
        Assert.All(plan.State.PendingTransfers.Where(t => t.From == leaver), t => Assert.False(t.FromReplicas));
        Assert.Equal(owned, plan.State.Owners!.CountOwnedBy(leaver));

        ClusterState done = CompleteAll(plan.State);
        Assert.Equal(0, done.Owners!.CountOwnedBy(leaver));
        Assert.False(done.Owners.IsMember(leaver));
        Assert.Equal(MemberStatus.Removed, done.GetMember(leaver).Status);
        Assert.Null(done.Ring!.Pending);
    }

    [Fact]
    public void Step_DeadNodeRemoved_ItsPartitionsArePulledFromReplicasByOthers()
    {
        ClusterState state = ClusterState.Bootstrap(GossipTopology.Members(5), Q);
        NodeId dead = GossipTopology.Member(2).Id;
        state = ClusterTransitions.MarkDown(state, dead);
        Assert.False(Claimant.Step(state, state.Claimant!.Value, N).Changed);

        state = ClusterTransitions.Remove(state, dead);
        ClaimResult plan = Claimant.Step(state, state.Claimant!.Value, N);

        List<PartitionTransfer> fromDead = [.. plan.State.PendingTransfers.Where(t => t.From == dead)];
        Assert.Equal(state.Owners!.CountOwnedBy(dead), fromDead.Count);
        Assert.All(fromDead, t => Assert.True(t.FromReplicas));
        ClusterState done = CompleteAll(plan.State);
        Assert.False(done.Owners!.IsMember(dead));
        Assert.Equal(MemberStatus.Removed, done.GetMember(dead).Status);
        Assert.Equal(64, done.Owners.Members.Max(m => done.Owners.CountOwnedBy(m.Id)));
    }

    [Fact]
    public void Step_ReplacementForADeadNode_WarmsUpAsJoiningUntilItsPartitionsArePulled()
    {
        ClusterState state = ClusterState.Bootstrap(GossipTopology.Members(4), Q);
        NodeId dead = GossipTopology.Member(1).Id;
        MemberRecord replacement = GossipTopology.Member(5, status: MemberStatus.Joining);
        state = ClusterTransitions.Join(ClusterTransitions.Remove(state, dead), replacement);

        ClaimResult plan = Claimant.Step(state, state.Claimant!.Value, N);

        output.WriteLine($"replace {dead} by {replacement.Id}: moves {plan.Moves}, ideal {plan.IdealMoves}");
        Assert.Equal(64, plan.IdealMoves);
        Assert.True(plan.Moves <= 1.1 * plan.IdealMoves);
        Assert.True(ClusterTransitions.IsWarmingUp(plan.State, replacement.Id, N));
        Assert.Equal(0, plan.State.Owners!.CountOwnedBy(replacement.Id));
        ClusterState done = CompleteAll(plan.State);
        Assert.False(ClusterTransitions.IsWarmingUp(done, replacement.Id, N));
        Assert.Equal(MemberStatus.Up, done.GetMember(replacement.Id).Status);
        Assert.Equal(64, done.Owners!.CountOwnedBy(replacement.Id));
    }

    [Fact]
    public void Step_MembershipChangesMidHandoff_ReplansFromTheCurrentOwners()
    {
        ClusterState state = ClusterTransitions.Join(ClusterState.Bootstrap(GossipTopology.Members(3), Q), GossipTopology.Member(3, status: MemberStatus.Joining));
        PartitionMap before = state.Owners!;
        state = Claimant.Step(state, state.Claimant!.Value, N).State;
        state = ClusterTransitions.ReportReady(state, GossipTopology.Member(3).Id, state.Ring!);
        long version = state.RingVersion;

        state = ClusterTransitions.Join(state, GossipTopology.Member(4, status: MemberStatus.Joining));
        ClaimResult replan = Claimant.Step(state, state.Claimant!.Value, N);

        // The half-done plan is dropped with its ready set: copies count only for the plan they were made for.
        Assert.Equal(version + 1, replan.State.RingVersion);
        Assert.True(replan.State.Ring!.Current.HasSameLayout(before));
        Assert.Empty(replan.State.Ring.Ready);
        ClusterState done = CompleteAll(replan.State);
        Assert.All(done.Owners!.Members, m => Assert.InRange(done.Owners.CountOwnedBy(m.Id), 51, 52));
    }

    [Fact]
    public void Step_NotTheClaimant_ChangesNothing()
    {
        ClusterState state = ClusterTransitions.Join(ClusterState.Bootstrap(GossipTopology.Members(3), Q), GossipTopology.Member(3, status: MemberStatus.Joining));
        Assert.Equal(GossipTopology.Member(0).Id, state.Claimant);
        Assert.False(Claimant.Step(state, GossipTopology.Member(1).Id, N).Changed);
    }

    [Fact]
    public void MarkDownThenMarkUp_RefutationWinsOverTheDownRecord()
    {
        ClusterState state = ClusterState.Bootstrap(GossipTopology.Members(3), Q);
        NodeId node = GossipTopology.Member(1).Id;
        ClusterState down = ClusterTransitions.MarkDown(state, node);
        ClusterState refuted = ClusterTransitions.MarkUp(down, node);

        Assert.Equal(MemberStatus.Down, state.Merge(down).GetMember(node).Status);
        Assert.Equal(MemberStatus.Up, down.Merge(refuted).GetMember(node).Status);
        Assert.Equal(1, refuted.GetMember(node).Incarnation);
    }

    [Fact]
    public void Join_RemovedNodeComesBack_AtAHigherIncarnation()
    {
        ClusterState state = ClusterState.Bootstrap(GossipTopology.Members(3), Q);
        NodeId node = GossipTopology.Member(2).Id;
        ClusterState removed = ClusterTransitions.Remove(state, node);
        ClusterState back = ClusterTransitions.Join(removed, GossipTopology.Member(2, status: MemberStatus.Joining));

        Assert.Equal(MemberStatus.Joining, removed.Merge(back).GetMember(node).Status);
        Assert.Equal(ClusterTransitions.RemovalIncarnationStep + 1, back.GetMember(node).Incarnation);
    }

    [Fact]
    public void Remove_FromAViewBehindTheDeadNodesLastRefutation_StillWins()
    {
        // Simulation seed 2002359 (membership schedule): the node was marked down and refuted twice (incarnation 2)
        // just before it died; the operator's node still saw incarnation 0 and removed it; a third node marked the
        // refuted record down. The tombstone must win the merge, or the dead node is claimed again.
        ClusterState state = ClusterState.Bootstrap(GossipTopology.Members(4), Q);
        NodeId node = GossipTopology.Member(3).Id;
        ClusterState refuted = ClusterTransitions.MarkUp(ClusterTransitions.MarkDown(state, node), node);
        refuted = ClusterTransitions.MarkUp(ClusterTransitions.MarkDown(refuted, node), node);
        ClusterState downAgain = ClusterTransitions.MarkDown(refuted, node);
        Assert.Equal(2, downAgain.GetMember(node).Incarnation);
        ClusterState removed = ClusterTransitions.Remove(state, node);

        Assert.Equal(MemberStatus.Removed, removed.Merge(downAgain).GetMember(node).Status);
        Assert.Equal(MemberStatus.Removed, downAgain.Merge(removed).GetMember(node).Status);
    }

    /// <summary>Drives the claimant and reports every gainer ready until nothing changes.</summary>
    internal static ClusterState CompleteAll(ClusterState state)
    {
        for (int step = 0; step < 10; step++)
        {
            if (state.Ring?.Pending is { } pending)
            {
                foreach (NodeId gainer in HandoffPlan.Gainers(state.Ring.Current, pending, N))
                {
                    state = ClusterTransitions.ReportReady(state, gainer, state.Ring!);
                }
            }

            ClaimResult result = Claimant.Step(state, state.Claimant!.Value, N);
            if (!result.Changed)
            {
                return state;
            }

            state = result.State;
        }

        throw new InvalidOperationException("The claimant did not settle in 10 steps.");
    }

    private static int DistinctRackPreferenceLists(PartitionMap map)
    {
        int spread = 0;
        for (int p = 0; p < map.PartitionCount; p++)
        {
            var racks = PreferenceListBuilder.PrimariesOf(map, new PartitionId(p), "dc1", 3).Select(n => map.GetMember(n).Rack).ToHashSet();
            spread += racks.Count == 3 ? 1 : 0;
        }

        return spread;
    }
}
