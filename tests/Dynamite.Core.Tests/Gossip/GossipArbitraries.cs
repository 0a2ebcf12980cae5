using System.Collections.Immutable;
using System.Text;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using FsCheck;
using FsCheck.Fluent;

namespace Dynamite.Core.Tests.Gossip;

/// <summary>
/// Cluster states the way real ones arise: three nodes' views start from one bootstrapped 3-node
/// cluster (Q = 4) and apply random joins, leaves, removals, failure-detector marks, claimant steps
/// (by whoever each view thinks is claimant, so concurrent plans at one ring version happen),
/// handoff completions and merges between views.
/// </summary>
public static class GossipArbitraries
{
    private const int Universe = 6;

    public static Arbitrary<ClusterStateTriple> Triples() => Arb.From(Gen.ArrayOf(Gen.Choose(0, 1_000_000)).Select(Simulate));

    internal static ClusterStateTriple Simulate(int[] script)
    {
        ClusterState initial = ClusterState.Bootstrap(GossipTopology.Members(3), 4);
        var views = new[] { initial, initial, initial };
        var history = new StringBuilder();
        foreach (int x in script)
        {
            int i = x % 3;
            int kind = x / 3 % 9;
            int pick = x / 27;
            ClusterState view = views[i];
            NodeId node = GossipTopology.Member(pick % Universe).Id;
            bool known = view.TryGetMember(node, out _);
            history.Append(i).Append(':').Append(kind).Append(' ');
            views[i] = kind switch
            {
                0 => ClusterTransitions.Join(view, GossipTopology.Member(3 + (pick % 3), status: MemberStatus.Joining)),
                1 when known => ClusterTransitions.Leave(view, node),
                2 when known && pick % 4 == 0 => ClusterTransitions.Remove(view, node),
                3 when known => ClusterTransitions.MarkDown(view, node),
                4 when known => ClusterTransitions.MarkUp(view, node),
                5 when view.Claimant is NodeId claimant => Claimant.Step(view, claimant, 3).State,
                6 => CompleteOne(view, pick),
                7 => view.Merge(views[(i + 1 + (pick % 2)) % 3]),
                8 => ChangeUser(view, GossipTopology.Member(i).Id, pick),
                _ => view,
            };
        }

        return new ClusterStateTriple(views[0], views[1], views[2], history.ToString());
    }

    /// <summary>An ACL user changed (or deleted) through <paramref name="actor"/>, as <c>GossipMembership.SetAclUser</c> does.</summary>
    private static ClusterState ChangeUser(ClusterState view, NodeId actor, int pick)
    {
        string name = "user" + (pick % 3);
        long version = view.Users.TryGetValue(name, out AclUserRecord? known) ? known!.Version + 1 : 1;
        bool deleted = pick % 5 == 0;
        return view.WithUser(new AclUserRecord(name, version, actor.Value, deleted, deleted ? "" : $"on nopass ~k{pick % 7}:* -@all +get"));
    }

    private static ClusterState CompleteOne(ClusterState view, int pick)
    {
        if (view.Ring?.Pending is not { } pending)
        {
            return view;
        }

        ImmutableSortedSet<NodeId> gainers = HandoffPlan.Gainers(view.Ring.Current, pending, 3);
        return gainers.IsEmpty ? view : ClusterTransitions.ReportReady(view, gainers[pick % gainers.Count], view.Ring);
    }
}
