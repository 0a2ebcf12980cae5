using Dynamite.Core.Membership;

namespace Dynamite.Core.Gossip;

/// <summary>
/// The membership changes a node makes to its own copy of the cluster state (riak_core's
/// join / leave / remove / down, SWIM's suspicion and refutation). Each is a pure function returning
/// a new state, or the same instance when it changes nothing, and the result spreads by gossip.
/// Ownership is never changed here: the claimant (<see cref="Claimant.Step"/>) reacts to the new
/// member statuses with a plan.
/// </summary>
public static class ClusterTransitions
{
    /// <summary>
    /// A seed admits a new member as <see cref="MemberStatus.Joining"/>. A member already present is
    /// left alone, unless it was removed: then it comes back at a higher incarnation than its tombstone.
    /// </summary>
    public static ClusterState Join(ClusterState state, MemberRecord member)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(member);
        if (!state.TryGetMember(member.Id, out MemberRecord? existing))
        {
            return state.WithMember(member.WithStatus(MemberStatus.Joining, member.Incarnation));
        }

        if (existing!.Status != MemberStatus.Removed)
        {
            return state;
        }

        long incarnation = Math.Max(member.Incarnation, existing.Incarnation + 1);
        return state.WithMember(member.WithStatus(MemberStatus.Joining, incarnation));
    }

    /// <summary>The member (or an operator for it) asks to leave: its partitions are handed off, then the claimant retires it.</summary>
    public static ClusterState Leave(ClusterState state, NodeId node)
    {
        MemberRecord member = Require(state, node);
        return member.Status is MemberStatus.Leaving or MemberStatus.Removed ? state : state.WithMember(member.Advance(MemberStatus.Leaving));
    }

    /// <summary>
    /// How far a removal raises the member's incarnation. The operator removes a node from the view of the node
    /// they ask, which may be behind the dead node's own last refutations (each adds 1) still spreading by gossip;
    /// one step would let such a refutation (then marked Down at its incarnation) outrank the tombstone and bring
    /// the removed node back into the claim. The simulation found that schedule. A node that comes back after
    /// its removal joins above the tombstone (<see cref="Join"/>), so the gap costs nothing.
    /// </summary>
    public const long RemovalIncarnationStep = 1 << 20;

    /// <summary>An operator removes a dead node: a tombstone; the claimant plans its partitions away (pulled from replicas).</summary>
    public static ClusterState Remove(ClusterState state, NodeId node)
    {
        MemberRecord member = Require(state, node);
        return member.Status == MemberStatus.Removed
            ? state
            : state.WithMember(member.WithStatus(MemberStatus.Removed, checked(member.Incarnation + RemovalIncarnationStep)));
    }

    /// <summary>
    /// The failure detector declares an Up member unreachable. The incarnation stays, so the member
    /// can refute with <see cref="MarkUp"/>; Down outranks Up at one incarnation. Joining and Leaving
    /// members keep their status (their handoffs simply stall), so an outage never cancels a leave.
    /// </summary>
    public static ClusterState MarkDown(ClusterState state, NodeId node)
    {
        MemberRecord member = Require(state, node);
        return member.Status != MemberStatus.Up
            ? state
            : state.WithMember(member.WithStatus(MemberStatus.Down, member.Incarnation));
    }

    /// <summary>
    /// A Down member is back. This is the member's refutation (SWIM): it raises its own incarnation,
    /// which outranks every Down record of the old incarnation. The runtime calls it on the member
    /// itself when it learns it was marked down.
    /// </summary>
    public static ClusterState MarkUp(ClusterState state, NodeId node)
    {
        MemberRecord member = Require(state, node);
        return member.Status != MemberStatus.Down ? state : state.WithMember(member.Advance(MemberStatus.Up));
    }

    /// <summary>
    /// <paramref name="node"/> says where Redis clients reach it (its own record at the next incarnation), when the state
    /// says otherwise: a founder's record is written by another node, which knows only its peer address.
    /// </summary>
    public static ClusterState AnnounceClientAddress(ClusterState state, NodeId node, string clientAddress)
    {
        ArgumentNullException.ThrowIfNull(clientAddress);
        MemberRecord member = Require(state, node);
        return member.ClientAddress == clientAddress || member.Status == MemberStatus.Removed
            ? state
            : state.WithMember(new MemberRecord(member.Node, member.Address, member.Status, checked(member.Incarnation + 1), clientAddress));
    }

    /// <summary>
    /// <paramref name="node"/> reports that it holds every partition the plan <paramref name="copiedFor"/> gives
    /// it. A report for another plan (it changed meanwhile, or a rival claimant published another at the same
    /// version) or from a node the plan does not name returns the state unchanged: the current plan will ask again.
    /// </summary>
    public static ClusterState ReportReady(ClusterState state, NodeId node, RingState copiedFor)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(copiedFor);
        RingState? ring = state.Ring;
        return ring?.Pending is null || !ring.IsSamePlan(copiedFor) ? state : state.WithRing(ring.MarkReady(node));
    }

    /// <summary>
    /// True while <paramref name="node"/> is warming up: Joining, or gaining partitions under the pending
    /// plan and not yet ready; it should not serve reads for those.
    /// </summary>
    public static bool IsWarmingUp(ClusterState state, NodeId node, int replicas)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.TryGetMember(node, out MemberRecord? member) && member!.Status == MemberStatus.Joining)
        {
            return true;
        }

        RingState? ring = state.Ring;
        return ring?.Pending is not null
            && !ring.Ready.Contains(node)
            && HandoffPlan.GainedBy(ring.Current, ring.Pending, node, replicas).Count > 0;
    }

    private static MemberRecord Require(ClusterState state, NodeId node)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.GetMember(node);
    }
}
