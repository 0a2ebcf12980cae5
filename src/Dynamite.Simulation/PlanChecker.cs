using System.Text;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;

namespace Dynamite.Simulation;

/// <summary>
/// An invariant checked on every cluster state any node announces (the runtime's own StateChanged event): a plan's
/// map becomes current only after every node that gains a partition under it reported its copies ready. The checker
/// keeps, for every pending map seen anywhere, the nodes it waits for and the union of every Ready set announced
/// for it (each gainer announces its own report), and judges each switch to such a map when it is first seen.
/// </summary>
public sealed class PlanChecker(int replicas)
{
    // Per pending map, per current map it was planned from: the nodes it waits for and every Ready announced for it.
    private readonly Dictionary<string, Dictionary<string, (IReadOnlySet<NodeId> Gainers, HashSet<NodeId> Ready)>> _plans = new(StringComparer.Ordinal);
    private readonly HashSet<long> _judged = [];
    private readonly List<string> _violations = [];

    public IReadOnlyList<string> Violations => _violations;

    /// <summary>Plans that became current, judged.</summary>
    public int Switches { get; private set; }

    public void Observe(NodeId node, ClusterState state, long elapsedMs)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Ring is not { } ring)
        {
            return;
        }

        if (ring.Pending is { } pending)
        {
            string key = KeyOf(pending);
            if (!_plans.TryGetValue(key, out var from))
            {
                from = new(StringComparer.Ordinal);
                _plans[key] = from;
            }

            string current = KeyOf(ring.Current);
            if (!from.TryGetValue(current, out var plan))
            {
                plan = (HandoffPlan.Gainers(ring.Current, pending, replicas), []);
                from[current] = plan;
            }

            plan.Ready.UnionWith(ring.Ready);
            return;
        }

        // A ring version is judged once, when the first node announces it: the claimant that switched. A map some plan
        // moved to must have had, for at least one plan towards it, every gainer ready; the claimant's own report may
        // be part of the very change that switched (it was the last gainer), so it is not required to have been seen.
        if (_plans.TryGetValue(KeyOf(ring.Current), out var plans) && _judged.Add(ring.Version))
        {
            Switches++;
            if (!plans.Values.Any(plan => plan.Gainers.All(g => g == node || plan.Ready.Contains(g))))
            {
                string waiting = string.Join(" | ", plans.Values.Select(plan => string.Join(",", plan.Gainers.Where(g => g != node && !plan.Ready.Contains(g)))));
                _violations.Add($"plan switched early: {node} holds ring v{ring.Version} (at {elapsedMs} ms), a map a plan moved to while gainers had not reported ready: {waiting}");
            }
        }
    }

    /// <summary>A map's identity: its owners in partition order, and its members.</summary>
    private static string KeyOf(PartitionMap map)
    {
        var key = new StringBuilder();
        foreach (NodeDescriptor member in map.Members)
        {
            key.Append(member.Id.Value).Append('@').Append(member.Rack).Append(';');
        }

        for (int p = 0; p < map.PartitionCount; p++)
        {
            key.Append(map.OwnerOf(new PartitionId(p)).Value).Append(',');
        }

        return key.ToString();
    }
}
