using System.Text;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;

namespace Dynamite.Simulation;

/// <summary>
/// The promises a run checks once every fault healed, hints drained and every key was read at R=N through every
/// node (the final repair):
/// <list type="bullet">
/// <item>convergence: every primary of every key holds the same object;</item>
/// <item>no lost acknowledged write (Dynamo API): an acknowledged write's sibling is in the final object, or its
/// dot is covered by the final context and some applied write's context covered it (a client read it and
/// superseded it) - a sibling dropped any other way is lost;</item>
/// <item>no invented value: every value a read returned and every value left in any store was written by
/// some write that was applied; for last-writer-wins keys, the final winner is such a write, and a key with an
/// acknowledged write is not empty.</item>
/// </list>
/// </summary>
public static class SimulationChecker
{
    public static IReadOnlyList<string> Check(IReadOnlyList<SimulatedNode> nodes, Workload workload, History history, WriteLedger ledger) =>
        Check(nodes, workload, history, ledger, SetPolicy.Siblings);

    /// <summary>
    /// As the other overload; <paramref name="setPolicy"/> is how set readers see the final set (Jepsen's set
    /// checker: every acknowledged add must be in it).
    /// </summary>
    public static IReadOnlyList<string> Check(IReadOnlyList<SimulatedNode> nodes, Workload workload, History history, WriteLedger ledger, SetPolicy setPolicy)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(ledger);
        var violations = new List<string>();
        // Retired nodes (left, removed) hold nothing that counts; their data was handed off or is gone.
        nodes = [.. nodes.Where(n => !n.IsRetired)];
        var stores = nodes.ToDictionary(n => n.Id, n => n.Store);
        SimulatedNode ringHolder = nodes.FirstOrDefault(n => n.IsLiveMember)
            ?? throw new InvalidOperationException("no node holds a ring at the end of the run");
        var finals = new Dictionary<string, VersionedObject>(StringComparer.Ordinal);
        foreach (string key in workload.AllKeys)
        {
            VersionedObject merged = VersionedObject.Empty;
            VersionedObject? first = null;
            foreach (NodeId primary in ringHolder.PrimariesOf(key))
            {
                if (!stores.TryGetValue(primary, out IReadOnlyDictionary<string, VersionedObject>? store))
                {
                    violations.Add($"retired primary: key {key} is still owned by {primary}, which left or was removed");
                    continue;
                }

                VersionedObject copy = store.GetValueOrDefault(key) ?? VersionedObject.Empty;
                merged = merged.Merge(copy);
                if (first is null)
                {
                    first = copy;
                }
                else if (!first.Equals(copy))
                {
                    violations.Add($"not converged: key {key}: {Copies(key, ringHolder.PrimariesOf(key), stores)}");
                    break;
                }
            }

            finals[key] = merged;
        }

        foreach (HistoryEntry entry in history.Entries)
        {
            if (entry.Kind == OperationKind.DynamoWrite && entry.Status == OperationStatus.Ok)
            {
                // A forwarded write's client learns no dot, and a forward that timed out may have been applied twice
                // (by two replicas, under two dots): the write is kept when one of its applications is.
                IReadOnlyList<Dot> dots = entry.Dot is { } known ? [known] : ledger.DotsOf(entry.Key, entry.Value!);
                VersionedObject final = finals[entry.Key];
                string? problem = null;
                foreach (Dot dot in dots)
                {
                    Sibling? sibling = final.Siblings.FirstOrDefault(s => s.Dot == dot);
                    if (sibling is not null)
                    {
                        problem = sibling.Value is null || !string.Equals(Encoding.UTF8.GetString(sibling.Value), entry.Value, StringComparison.Ordinal)
                            ? $"wrong value: acknowledged write {entry} has dot {dot}, whose final sibling is {sibling}"
                            : null;
                        break;
                    }

                    problem = final.Context.Covers(dot) && ledger.IsSuperseded(entry.Key, dot)
                        ? null
                        : $"lost write: acknowledged {entry} (dots {string.Join(", ", dots)}) is neither in the final object nor superseded by a write that read it; final {Describe(final)}";
                    if (problem is null)
                    {
                        break;
                    }
                }

                if (dots.Count == 0)
                {
                    problem = $"lost write: acknowledged {entry} was never stored by any replica";
                }

                if (problem is not null)
                {
                    violations.Add(problem);
                }
            }

            if (entry.Kind == OperationKind.Read && entry.Status == OperationStatus.Ok && !string.IsNullOrEmpty(entry.Value))
            {
                foreach (string value in entry.Value.Split(','))
                {
                    if (!ledger.WasApplied(entry.Key, value))
                    {
                        violations.Add($"invented value: read {entry} returned {value}, which no write applied");
                    }
                }
            }
        }

        foreach (SimulatedNode node in nodes)
        {
            foreach ((string key, VersionedObject obj) in stores[node.Id])
            {
                foreach (Sibling sibling in obj.Siblings)
                {
                    if (sibling.Value is not null && !ledger.WasApplied(key, Encoding.UTF8.GetString(sibling.Value)))
                    {
                        violations.Add($"invented value: {node.Id} holds {key}={Encoding.UTF8.GetString(sibling.Value)}, which no write applied");
                    }
                }
            }
        }

        foreach (string key in workload.SetKeys)
        {
            SortedSet<string> present = Workload.ElementsOf(finals[key], setPolicy);
            foreach (HistoryEntry entry in history.Entries)
            {
                if (entry.Key == key && entry.Kind == OperationKind.SetAdd && entry.Status == OperationStatus.Ok && !present.Contains(entry.Value!))
                {
                    violations.Add($"lost set element: acknowledged add {entry} is not in the final set of {key} ({present.Count} elements, {setPolicy})");
                }
            }
        }

        foreach (string key in workload.PlainKeys)
        {
            Sibling? winner = finals[key].ResolveLastWriterWins();
            bool acknowledged = history.Entries.Any(e => e.Key == key && e.Kind == OperationKind.PlainWrite && e.Status == OperationStatus.Ok);
            if (winner?.Value is null)
            {
                if (acknowledged)
                {
                    violations.Add($"lost key: {key} had acknowledged writes but its final object has no value: {Describe(finals[key])}");
                }

                continue;
            }

            string value = Encoding.UTF8.GetString(winner.Value);
            bool written = history.Entries.Any(e => e.Key == key && e.Kind == OperationKind.PlainWrite
                && e.Status is OperationStatus.Ok or OperationStatus.Indeterminate && string.Equals(e.Value, value, StringComparison.Ordinal));
            if (!written)
            {
                violations.Add($"invented value: last-writer-wins key {key} resolves to {value}, which is no acknowledged or indeterminate write");
            }
        }

        return violations;
    }

    /// <summary>
    /// Keys that do not rest on exactly their N primaries: held by a live node that is not a primary, or missing on a
    /// primary (the final repair wrote every key to all of them). Retired nodes' copies do not count.
    /// </summary>
    public static IReadOnlyList<string> Misplaced(IReadOnlyList<SimulatedNode> nodes, Workload workload)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(workload);
        var misplaced = new List<string>();
        SimulatedNode? ringHolder = nodes.FirstOrDefault(n => n.IsLiveMember);
        if (ringHolder is null)
        {
            return ["misplaced: no live member holds a ring"];
        }

        SimulatedNode[] live = [.. nodes.Where(n => n.IsStarted && !n.IsRetired)];
        var stores = live.ToDictionary(n => n.Id, n => n.Store);
        foreach (string key in workload.AllKeys)
        {
            IReadOnlyList<NodeId> primaries = ringHolder.PrimariesOf(key);
            var holders = live.Where(n => stores[n.Id].ContainsKey(key)).Select(n => n.Id).ToHashSet();
            bool anyWrite = holders.Count > 0;
            if (anyWrite && (!holders.SetEquals(primaries)))
            {
                misplaced.Add($"misplaced: key {key} is held by [{string.Join(",", holders.Order())}], its primaries are [{string.Join(",", primaries)}]");
            }
        }

        return misplaced;
    }

    /// <summary>
    /// Hinted handoff's promise, checked after healing and the hint drain, before any final repair, in a run with no
    /// wipe, no membership change and no anti-entropy: every replica write a coordinator sent was delivered or kept
    /// as a hint and replayed, so every primary's copy covers every applied write. Excused: writes whose coordinator
    /// crashed before its replica writes could fail into hints (within <paramref name="crashWindowMs"/> of the write).
    /// </summary>
    public static IReadOnlyList<string> HintGaps(IReadOnlyList<SimulatedNode> nodes, Workload workload, WriteLedger ledger, IReadOnlyList<(NodeId Node, long AtMs)> crashes, long crashWindowMs)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(crashes);
        var gaps = new List<string>();
        SimulatedNode? ringHolder = nodes.FirstOrDefault(n => n.IsLiveMember);
        if (ringHolder is null)
        {
            return gaps;
        }

        var stores = nodes.ToDictionary(n => n.Id, n => n.Store);
        foreach (string key in workload.AllKeys)
        {
            foreach (AppliedWrite write in ledger.WritesOf(key))
            {
                string coordinator = write.Dot.Node.Value.Split('.')[0];
                if (crashes.Any(c => c.Node.Value == coordinator && c.AtMs >= write.TimeMs && c.AtMs <= write.TimeMs + crashWindowMs))
                {
                    continue;
                }

                foreach (NodeId primary in ringHolder.PrimariesOf(key))
                {
                    VersionedObject copy = stores[primary].GetValueOrDefault(key) ?? VersionedObject.Empty;
                    if (!copy.Context.Covers(write.Dot))
                    {
                        gaps.Add($"hint gap: {primary} never got {key}={write.Value} (dot {write.Dot}, applied at {write.TimeMs} ms) although no wipe or crash excuses it; it holds {Describe(copy)}");
                    }
                }
            }
        }

        return gaps;
    }

    public static string Describe(VersionedObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return $"{obj.Context} {{{string.Join("; ", obj.Siblings.Select(s => $"{s.Dot}={(s.Value is null ? "tombstone" : Encoding.UTF8.GetString(s.Value))}"))}}}";
    }

    private static string Copies(string key, IReadOnlyList<NodeId> primaries, Dictionary<NodeId, IReadOnlyDictionary<string, VersionedObject>> stores) =>
        string.Join(" | ", primaries.Select(p => $"{p}: {(stores.TryGetValue(p, out var store) ? Describe(store.GetValueOrDefault(key) ?? VersionedObject.Empty) : "retired")}"));
}
