using Dynamite.Core.Membership;

namespace Dynamite.Simulation;

/// <summary>
/// The collection workload's promises, checked once faults healed and hints drained, against every live primary's
/// stored sorted sets and lists (docs/DATA-TYPES.md, "Sorted sets" and "Lists"):
/// <list type="bullet">
/// <item>convergence (with hinted handoff or anti-entropy on, as <see cref="TypedSetChecker"/>): every primary holds the
/// same elements in the same states and order, so a list reads in one order everywhere and a member has one score;</item>
/// <item>no lost push: every value whose <c>LPUSH</c>/<c>RPUSH</c> was acknowledged is in the list (nothing pops);</item>
/// <item>no lost member: a member whose first <c>ZADD</c> was acknowledged is present unless a <c>ZREM</c> of it
/// observed it (a later re-scoring <c>ZADD</c> concurrent with that remove may keep it: add wins);</item>
/// <item>nothing invented: every list value and every member was sent by some push or add.</item>
/// </list>
/// At W=2 a single wipe never takes the last copy of an acknowledged write; runs at W=1 leave wipes out.
/// </summary>
public static class CollectionChecker
{
    public static IReadOnlyList<string> Check(IReadOnlyList<SimulatedNode> nodes, Workload workload, History history, bool converges)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(history);
        var violations = new List<string>();
        foreach (string key in workload.ListKeys)
        {
            var copies = LivePrimaries.Of(nodes, key).Select(p => (Node: p.Id, List: p.Node.Collection(key, namesAreText: false))).ToList();
            if (copies.Count == 0)
            {
                continue;
            }

            CheckConverged(violations, "list", key, copies, converges);
            var present = new HashSet<string>(copies[0].List.Values, StringComparer.Ordinal);
            var sent = new HashSet<string>(StringComparer.Ordinal);
            foreach (HistoryEntry push in history.Entries.Where(e => e.Key == key && e.Kind == OperationKind.ListPush))
            {
                sent.Add(push.Value!);
                if (push.Status == OperationStatus.Ok && !present.Contains(push.Value!))
                {
                    violations.Add($"lost list item: acknowledged {push} is not in list {key}: {copies[0].List.Describe()}");
                }
            }

            foreach (string invented in present.Where(v => !sent.Contains(v)))
            {
                violations.Add($"invented list item: {key} holds {invented}, which no push sent");
            }
        }

        foreach (string key in workload.SortedSetKeys)
        {
            var copies = LivePrimaries.Of(nodes, key).Select(p => (Node: p.Id, Set: p.Node.Collection(key, namesAreText: true))).ToList();
            if (copies.Count == 0)
            {
                continue;
            }

            CheckConverged(violations, "sorted set", key, copies, converges);
            foreach ((NodeId node, SimulatedNode replica) in LivePrimaries.Of(nodes, key))
            {
                if (replica.ScoreIndexMismatch(key) is { } mismatch)
                {
                    violations.Add($"score index out of step with the elements: {key} on {node}: {mismatch}");
                }
            }

            var present = new HashSet<string>(copies[0].Set.Elements.Select(e => e.Name), StringComparer.Ordinal);
            var sent = new HashSet<string>(StringComparer.Ordinal);
            var observedRemoves = new HashSet<string>(StringComparer.Ordinal);
            foreach (HistoryEntry entry in history.Entries.Where(e => e.Key == key))
            {
                if (entry.Kind == OperationKind.SortedSetAdd)
                {
                    sent.Add(entry.Value!);
                }
                else if (entry.Kind == OperationKind.SortedSetRemove && entry.Changed)
                {
                    observedRemoves.Add(entry.Value!);
                }
            }

            foreach (HistoryEntry add in history.Entries.Where(e => e.Key == key && e.Kind == OperationKind.SortedSetAdd && e.Status == OperationStatus.Ok))
            {
                if (!observedRemoves.Contains(add.Value!) && !present.Contains(add.Value!))
                {
                    violations.Add($"lost sorted-set member: acknowledged {add} is not in {key}: {copies[0].Set.Describe()}");
                }
            }

            foreach (string invented in present.Where(m => !sent.Contains(m)))
            {
                violations.Add($"invented sorted-set member: {key} holds {invented}, which no ZADD sent");
            }
        }

        return violations;
    }

    private static void CheckConverged(List<string> violations, string kind, string key, List<(NodeId Node, CollectionSnapshot Copy)> copies, bool converges)
    {
        if (!converges)
        {
            return;
        }

        string expected = copies[0].Copy.DescribeElements();
        foreach ((NodeId node, CollectionSnapshot copy) in copies.Skip(1))
        {
            if (copy.DescribeElements() != expected)
            {
                violations.Add($"not converged: {kind} {key}: {copies[0].Node} holds {copies[0].Copy.Describe()}; {node} holds {copy.Describe()}");
            }
        }
    }
}
