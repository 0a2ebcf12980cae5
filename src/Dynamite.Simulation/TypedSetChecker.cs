using Dynamite.Core.DataTypes;
using Dynamite.Core.Membership;

namespace Dynamite.Simulation;

/// <summary>
/// The typed-set workload's promises (Jepsen's set checker, add-wins observed-remove), checked once faults healed and
/// hints drained, against every live primary's stored set:
/// <list type="bullet">
/// <item>convergence: every primary holds the same members, each in the same state, and (with hinted handoff or
/// anti-entropy on) the same header: without either, a replica that missed an add and its remove learns of neither
/// from a read, whose repair carries only the elements it read; anti-entropy's whole-key transfer brings it those dots;</item>
/// <item>no lost add: a member whose <c>SADD</c> was acknowledged is present, unless an <c>SREM</c> of it observed it;</item>
/// <item>no resurrection: a member an <c>SREM</c> observed (its coordinator's replica removed it) is absent: members
/// are unique, so no add is concurrent with the remove;</item>
/// <item>no invented member: every present member was sent by some <c>SADD</c>.</item>
/// </list>
/// One excuse: an SREM that was not acknowledged (indeterminate) and whose coordinator was wiped later may have been
/// lost with it, so its member may stay (a client that saw no acknowledgement cannot count on the remove). At W=2 a
/// single wipe never takes the last copy of an acknowledged change, so acknowledged adds and removes need no excuse;
/// at W=1 a wipe can, and those runs leave wipes out.
/// </summary>
public static class TypedSetChecker
{
    public static IReadOnlyList<string> Check(IReadOnlyList<SimulatedNode> nodes, Workload workload, History history, bool headersConverge)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(history);
        var violations = new List<string>();
        foreach (string key in workload.TypedSetKeys)
        {
            var copies = LivePrimaries.Of(nodes, key).Select(p => (Node: p.Id, Set: p.Node.TypedSet(key))).ToList();

            if (copies.Count == 0)
            {
                continue;
            }

            string Compared(TypedSetSnapshot set) => headersConverge ? set.Describe() : set.DescribeMembers();
            string expected = Compared(copies[0].Set);
            foreach ((NodeId node, TypedSetSnapshot set) in copies.Skip(1))
            {
                if (Compared(set) != expected)
                {
                    violations.Add($"not converged: typed set {key}: {copies[0].Node} holds {expected}; {node} holds {set.Describe()}");
                }
            }

            SortedDictionary<string, string> present = copies[0].Set.Members;
            var sent = new HashSet<string>(StringComparer.Ordinal);
            var observedRemoves = new HashSet<string>(StringComparer.Ordinal);
            var possiblyLostRemoves = new HashSet<string>(StringComparer.Ordinal);
            foreach (HistoryEntry entry in history.Entries.Where(e => e.Key == key))
            {
                if (entry.Kind == OperationKind.TypedSetAdd)
                {
                    sent.Add(entry.Value!);
                }
                else if (entry.Kind == OperationKind.TypedSetRemove && entry.Changed)
                {
                    observedRemoves.Add(entry.Value!);
                    if (entry.Status != OperationStatus.Ok && WipedAfter(entry, nodes))
                    {
                        possiblyLostRemoves.Add(entry.Value!);
                    }
                }
            }

            foreach (HistoryEntry add in history.Entries.Where(e => e.Key == key && e.Kind == OperationKind.TypedSetAdd && e.Status == OperationStatus.Ok))
            {
                if (!observedRemoves.Contains(add.Value!) && !present.ContainsKey(add.Value!))
                {
                    violations.Add($"lost set member: acknowledged {add} is not in typed set {key}: {copies[0].Set.Describe()}");
                }
            }

            foreach (string removed in observedRemoves.Where(m => present.ContainsKey(m) && !possiblyLostRemoves.Contains(m)))
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

    /// <summary>True when the node that coordinated <paramref name="entry"/> was wiped after the client sent it.</summary>
    private static bool WipedAfter(HistoryEntry entry, IEnumerable<SimulatedNode> nodes) =>
        nodes.Any(n => n.Id.Value == entry.Node && n.WipedAtMs.Any(at => at >= entry.InvokedMs));

    /// <summary>
    /// Quorum reads after healing: every typed set (and, in the repair pass, every sorted set and list) read at R=N
    /// through every live node. With <paramref name="compare"/>,
    /// in pages of three members, each must return exactly the members its first primary stores; without, the reads are
    /// the final read repair (a read answered with an error is still a problem), whole-key reads as SMEMBERS makes of
    /// a set that fits one page (so they also repair a context that alone is behind), and their repairs are given time
    /// to land.
    /// </summary>
    public static IReadOnlyList<string> ReadAll(SimulatedNetwork network, SimulationOptions options, IReadOnlyList<SimulatedNode> nodes, Workload workload, bool compare)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(workload);
        var violations = new List<string>();
        SimulatedNode? ringHolder = nodes.FirstOrDefault(n => n.IsLiveMember);
        // The repair pass reads the collection workload's sorted sets and lists too: without anti-entropy these reads are
        // what repairs a delta whose hint went with a node that left, as for the typed sets.
        IReadOnlyList<string> keys = compare ? workload.TypedSetKeys : [.. workload.TypedSetKeys, .. workload.SortedSetKeys, .. workload.ListKeys];
        if (ringHolder is null || keys.Count == 0)
        {
            return violations;
        }

        int outstanding = 0;
        foreach (string key in keys)
        {
            SimulatedNode? primary = compare ? nodes.FirstOrDefault(n => n.Id == ringHolder.PrimariesOf(key)[0]) : null;
            string expected = primary is null ? "" : string.Join(",", primary.TypedSet(key).Members.Keys);
            foreach (SimulatedNode node in nodes.Where(n => n.IsUp && !n.IsRetired))
            {
                outstanding++;
                node.ReadTypedSet(key, options.ReplicationFactor, pageSize: compare ? 3 : ElementSelection.MaxElements, read =>
                {
                    outstanding--;
                    string got = string.Join(",", read.Members);
                    if (!read.Ok || (compare && got != expected))
                    {
                        violations.Add($"typed set read: {key} through {node.Id} at R={options.ReplicationFactor} answered {(read.Ok ? got : read.Error)}; its primaries hold {expected}");
                    }
                });
            }
        }

        if (!network.RunWhile(() => outstanding > 0, network.Clock.NowMs + options.SettleLimitMs))
        {
            violations.Add($"stuck: {outstanding} typed set reads never answered");
        }

        network.RunUntil(network.Clock.NowMs + (2 * options.RequestTimeoutMs));
        return violations;
    }
}
