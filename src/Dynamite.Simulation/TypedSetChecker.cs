using Dynamite.Core.Membership;

namespace Dynamite.Simulation;

/// <summary>
/// The typed-set workload's promises (Jepsen's set checker, add-wins observed-remove), checked once faults healed and
/// hints drained, against every live primary's stored set:
/// <list type="bullet">
/// <item>convergence: every primary holds the same header and members;</item>
/// <item>no lost add: a member whose <c>SADD</c> was acknowledged is present, unless an <c>SREM</c> of it observed it;</item>
/// <item>no resurrection: a member an <c>SREM</c> observed (its coordinator's replica removed it) is absent: members
/// are unique, so no add is concurrent with the remove;</item>
/// <item>no invented member: every present member was sent by some <c>SADD</c>.</item>
/// </list>
/// Typed keys are carried by replica deltas and hints only (anti-entropy and handoff do not carry them yet), so
/// these runs leave out crashes and wipes, which lose deltas that only anti-entropy could bring back.
/// </summary>
public static class TypedSetChecker
{
    public static IReadOnlyList<string> Check(IReadOnlyList<SimulatedNode> nodes, Workload workload, History history)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(history);
        var violations = new List<string>();
        SimulatedNode? ringHolder = nodes.FirstOrDefault(n => n.IsLiveMember);
        if (ringHolder is null)
        {
            return violations;
        }

        var byId = nodes.Where(n => !n.IsRetired).ToDictionary(n => n.Id);
        foreach (string key in workload.TypedSetKeys)
        {
            var copies = new List<(NodeId Node, TypedSetSnapshot Set)>();
            foreach (NodeId primary in ringHolder.PrimariesOf(key))
            {
                if (byId.TryGetValue(primary, out SimulatedNode? node))
                {
                    copies.Add((primary, node.TypedSet(key)));
                }
            }

            if (copies.Count == 0)
            {
                continue;
            }

            string expected = copies[0].Set.Describe();
            foreach ((NodeId node, TypedSetSnapshot set) in copies.Skip(1))
            {
                if (set.Describe() != expected)
                {
                    violations.Add($"not converged: typed set {key}: {copies[0].Node} holds {expected}; {node} holds {set.Describe()}");
                }
            }

            SortedDictionary<string, string> present = copies[0].Set.Members;
            var sent = new HashSet<string>(StringComparer.Ordinal);
            var observedRemoves = new HashSet<string>(StringComparer.Ordinal);
            foreach (HistoryEntry entry in history.Entries.Where(e => e.Key == key))
            {
                if (entry.Kind == OperationKind.TypedSetAdd)
                {
                    sent.Add(entry.Value!);
                }
                else if (entry.Kind == OperationKind.TypedSetRemove && entry.Changed)
                {
                    observedRemoves.Add(entry.Value!);
                }
            }

            foreach (HistoryEntry add in history.Entries.Where(e => e.Key == key && e.Kind == OperationKind.TypedSetAdd && e.Status == OperationStatus.Ok))
            {
                if (!observedRemoves.Contains(add.Value!) && !present.ContainsKey(add.Value!))
                {
                    violations.Add($"lost set member: acknowledged {add} is not in typed set {key}: {copies[0].Set.Describe()}");
                }
            }

            foreach (string removed in observedRemoves.Where(present.ContainsKey))
            {
                violations.Add($"resurrected set member: {key} holds {removed}, which an SREM observed and removed ({present[removed]})");
            }

            foreach (string member in present.Keys.Where(m => !sent.Contains(m)))
            {
                violations.Add($"invented set member: {key} holds {member}, which no SADD sent");
            }
        }

        return violations;
    }
}
