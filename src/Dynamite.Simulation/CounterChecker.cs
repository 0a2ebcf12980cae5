using Dynamite.Core.Membership;

namespace Dynamite.Simulation;

/// <summary>
/// The counter workload's promise (a PN-counter's: no increment lost, none counted twice), checked once faults healed
/// and hints drained, against every live primary's stored counter: each primary holds the same value (with hinted
/// handoff or anti-entropy on), and that value is at least the sum of the acknowledged increments and at most that
/// plus the unacknowledged ones (an increment whose acknowledgement was lost may or may not have been applied; one
/// refused by a node that was down was not). Increments are positive, so both bounds are exact.
/// </summary>
public static class CounterChecker
{
    public static IReadOnlyList<string> Check(IReadOnlyList<SimulatedNode> nodes, Workload workload, History history, bool converges)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(history);
        var violations = new List<string>();
        foreach (string key in workload.CounterKeys)
        {
            long acknowledged = 0, unacknowledged = 0;
            foreach (HistoryEntry entry in history.Entries.Where(e => e.Key == key && e.Kind == OperationKind.CounterIncrement))
            {
                long amount = long.Parse(entry.Value!, System.Globalization.CultureInfo.InvariantCulture);
                if (entry.Status == OperationStatus.Ok)
                {
                    acknowledged += amount;
                }
                else if (entry.Status != OperationStatus.Failed)
                {
                    unacknowledged += amount;
                }
            }

            var values = LivePrimaries.Of(nodes, key).Select(p => (Node: p.Id, Value: p.Node.CounterValue(key))).ToList();

            foreach ((NodeId node, long value) in values)
            {
                if (value < acknowledged)
                {
                    violations.Add($"lost increment: counter {key} on {node} is {value}, below the {acknowledged} its acknowledged increments add up to");
                }
                else if (value > acknowledged + unacknowledged)
                {
                    violations.Add($"counted twice: counter {key} on {node} is {value}, above the {acknowledged + unacknowledged} every increment sent adds up to");
                }
            }

            if (converges && values.Select(v => v.Value).Distinct().Count() > 1)
            {
                violations.Add($"not converged: counter {key}: {string.Join(", ", values.Select(v => $"{v.Node}={v.Value}"))}");
            }
        }

        return violations;
    }
}
