using Dynamite.Core.Membership;
using Dynamite.Core.Ring;

namespace Dynamite.Core.Gossip;

/// <summary>
/// The claimant's step (riak_core_claimant): one node, the lowest id among Up members, turns
/// membership changes into ownership changes, so concurrent planners never fight. Each step:
/// <list type="number">
/// <item>If the claim targets (Joining, Up and Down members) differ from the members of the map
/// being planned towards, plan anew from the current ownership with
/// <see cref="PartitionClaim.Rebalance"/> (balance within one partition, rack interleaving kept,
/// close to the minimum number of moves) and publish it as the pending map at the next ring version.
/// Every node that gains a replica under the new plan (<see cref="HandoffPlan"/>), including in
/// place of a removed node, must copy it first.</item>
/// <item>If every node the pending plan waits for has reported ready, make the pending map current.</item>
/// <item>With no plan in progress, promote Joining members (now holding their partitions) to Up
/// and retire Leaving members that own nothing (Removed).</item>
/// </list>
/// The runtime calls it after every merge on the node that is the claimant; it is idempotent.
/// </summary>
public static class Claimant
{
    /// <summary>One claimant step on behalf of <paramref name="self"/> with N = <paramref name="replicas"/>; unchanged unless self is the claimant.</summary>
    public static ClaimResult Step(ClusterState state, NodeId self, int replicas)
    {
        ArgumentNullException.ThrowIfNull(state);
        RingState? ring = state.Ring;
        if (ring is null || state.Claimant != self)
        {
            return ClaimResult.Unchanged(state);
        }

        var targets = new List<NodeDescriptor>();
        var targetIds = new HashSet<NodeId>();
        foreach (MemberRecord member in state.Members.Values)
        {
            if (member.IsClaimTarget)
            {
                targets.Add(member.Node);
                targetIds.Add(member.Id);
            }
        }

        PartitionMap plannedTowards = ring.Pending ?? ring.Current;
        if (!SameIds(plannedTowards, targetIds))
        {
            return Plan(state, ring, targets, targetIds);
        }

        if (ring.Pending is not null)
        {
            if (!HandoffPlan.IsComplete(ring, replicas))
            {
                return ClaimResult.Unchanged(state);
            }

            ClusterState finished = Promote(state.WithRing(ring.Plan(ring.Pending, null)));
            return new ClaimResult(finished, true, 0, 0);
        }

        ClusterState promoted = Promote(state);
        return ReferenceEquals(promoted, state) ? ClaimResult.Unchanged(state) : new ClaimResult(promoted, true, 0, 0);
    }

    /// <summary>
    /// The fewest partitions any balanced map over <paramref name="targets"/> must move away from
    /// <paramref name="before"/>: every partition of a departed owner, plus each remaining node's
    /// surplus over its share, where the r = P mod N larger shares (q + 1, q = P div N) go to the
    /// nodes that own most already. For 3 → 4 nodes at Q = 8: 86 + 85 + 85 over shares of 64 = 64.
    /// </summary>
    public static int IdealMoves(PartitionMap before, IReadOnlyCollection<NodeId> targets)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(targets);
        var counts = new List<int>(targets.Count);
        int kept = 0;
        foreach (NodeId node in targets)
        {
            int owned = before.CountOwnedBy(node);
            counts.Add(owned);
            kept += owned;
        }

        int partitions = before.PartitionCount;
        int moves = partitions - kept;
        counts.Sort(static (a, b) => b.CompareTo(a));
        int share = partitions / counts.Count;
        int larger = partitions % counts.Count;
        for (int i = 0; i < counts.Count; i++)
        {
            moves += Math.Max(0, counts[i] - (share + (i < larger ? 1 : 0)));
        }

        return moves;
    }

    private static ClaimResult Plan(ClusterState state, RingState ring, List<NodeDescriptor> targets, HashSet<NodeId> targetIds)
    {
        if (targets.Count == 0)
        {
            return ClaimResult.Unchanged(state);
        }

        PartitionMap from = ring.Current;
        PartitionMap target = PartitionClaim.Rebalance(from, targets);
        int moves = PartitionClaim.CountMoves(from, target);
        int ideal = IdealMoves(from, targetIds);
        if (moves == 0)
        {
            // Only the member set changed (a node too many for the partitions, a departed node owning
            // nothing): no handoff, the target is current at once.
            return new ClaimResult(Promote(state.WithRing(ring.Plan(target, null))), true, 0, ideal);
        }

        return new ClaimResult(state.WithRing(ring.Plan(from, target)), true, moves, ideal);
    }

    /// <summary>With no plan in progress: Joining members become Up, Leaving members that own nothing become Removed.</summary>
    private static ClusterState Promote(ClusterState state)
    {
        PartitionMap current = state.Ring!.Current;
        ClusterState result = state;
        foreach (MemberRecord member in state.Members.Values)
        {
            if (member.Status == MemberStatus.Joining && current.IsMember(member.Id))
            {
                result = result.WithMember(member.Advance(MemberStatus.Up));
            }
            else if (member.Status == MemberStatus.Leaving && current.CountOwnedBy(member.Id) == 0)
            {
                result = result.WithMember(member.Advance(MemberStatus.Removed));
            }
        }

        return result;
    }

    private static bool SameIds(PartitionMap map, HashSet<NodeId> ids)
    {
        if (map.Members.Length != ids.Count)
        {
            return false;
        }

        foreach (NodeDescriptor member in map.Members)
        {
            if (!ids.Contains(member.Id))
            {
                return false;
            }
        }

        return true;
    }
}
