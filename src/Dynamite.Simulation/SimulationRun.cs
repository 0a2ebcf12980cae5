using Dynamite.Cluster.Metrics;
using Dynamite.Core.Membership;

namespace Dynamite.Simulation;

/// <summary>
/// One deterministic run (FoundationDB-style simulation testing): a cluster of <see cref="SimulatedNode"/>s (the
/// production runtime) over a <see cref="SimulatedNetwork"/>; the nodes found the cluster from their seeds; a <see cref="Workload"/> and a <see cref="FaultInjector"/> for the workload
/// phase; then every fault heals, in-flight operations finish, the failure detectors see everyone up, hints drain,
/// every key is read at R=N through every node (a full read repair), hints drain again, and the
/// <see cref="SimulationChecker"/> judges the end state and the history. Everything random comes from
/// <c>seed</c>: the same seed and options replay the same run, event for event.
/// </summary>
public static class SimulationRun
{
    public static SimulationResult Execute(int seed, SimulationOptions? options = null)
    {
        options ??= new SimulationOptions();
        options.Validate();
        var network = new SimulatedNetwork(seed, options);
        var ledger = new WriteLedger(() => network.Clock.ElapsedMs);
        var history = new History();
        var cluster = new SimulatedCluster(network);
        int spares = options.MembershipChanges ? 1 : 0;
        var descriptors = Enumerable.Range(1, options.NodeCount + spares).Select(i => new NodeDescriptor(new NodeId($"n{i}"), "dc1", $"r{i}")).ToArray();

        // The founders are each other's seeds; a spare joins through them later.
        string[] seeds = [.. descriptors.Take(options.NodeCount).Select(d => SimulatedNode.AddressOf(d.Id))];
        var plans = new PlanChecker(options.ReplicationFactor);
        using var metrics = new SimulationMetrics();
        SimulatedNode[] nodes = [.. descriptors.Select(d => new SimulatedNode(d, cluster, options, ledger, seeds, plans, metrics))];
        foreach (SimulatedNode node in nodes)
        {
            cluster.Add(node);
        }

        foreach (SimulatedNode node in nodes.Take(options.NodeCount))
        {
            node.Start();
        }

        var problems = new List<string>();

        // The nodes find each other through their seeds and found the cluster, as real nodes do. A founder that learns
        // the ring by gossip before founding it cannot tell itself from a wiped member and warms up (from empty peers,
        // which is quick); the workload starts once every node serves.
        if (!network.RunWhile(() => nodes.Any(n => n.IsStarted && n.Runtime is not { Membership: { Map: not null, IsWarming: false } }), SimulatedClock.StartUnixMs + options.FormationLimitMs))
        {
            problems.Add("stuck: the nodes never founded the cluster: " + Describe(nodes));
        }

        var workload = new Workload(network, options, nodes, history, ledger);
        var faults = new FaultInjector(network, options, nodes);
        var membership = new MembershipSchedule(network, options, nodes, faults);
        workload.Start();
        faults.Start();
        if (options.MembershipChanges)
        {
            membership.Start();
        }

        network.RunUntil(SimulatedClock.StartUnixMs + options.WorkloadMs);
        faults.HealAll();
        Settle(network, options, nodes, workload, problems, () =>
            faults.Wipes == 0 && membership.Changes == 0 && options.AntiEntropyIntervalMs == 0 && options.HintedHandoff
                ? SimulationChecker.HintGaps(nodes, workload, ledger, faults.Crashes, (2 * options.RequestTimeoutMs) + options.MaxFaultDurationMs)
                : []);
        // The typed keys' final read repair, as the string keys' above: every typed set, sorted set and list read at R=N through every node.
        problems.AddRange(TypedSetChecker.ReadAll(network, options, nodes, workload, compare: false).Take(3));
        problems.AddRange(network.ForeignWork.Take(3).Select(work => "nondeterminism: " + work));
        problems.AddRange(network.Unexpected.Take(3).Select(what => "unexpected exception: " + what));
        problems.AddRange(plans.Violations.Take(3));
        var violations = new List<string>(problems);
        violations.AddRange(SimulationChecker.Check(nodes, workload, history, ledger, options.SetPolicy));
        violations.AddRange(TypedSetChecker.Check(nodes, workload, history, headersConverge: options.HintedHandoff || options.AntiEntropyIntervalMs > 0));
        violations.AddRange(TypedSetChecker.ReadAll(network, options, nodes, workload, compare: true));
        violations.AddRange(CounterChecker.Check(nodes, workload, history, converges: options.HintedHandoff || options.AntiEntropyIntervalMs > 0));
        violations.AddRange(CollectionChecker.Check(nodes, workload, history, converges: options.HintedHandoff || options.AntiEntropyIntervalMs > 0));
        string summary =
            $"{history.Entries.Count} ops (writes ok {history.Count(OperationKind.DynamoWrite, OperationStatus.Ok) + history.Count(OperationKind.PlainWrite, OperationStatus.Ok)}, "
            + $"indeterminate {history.Count(OperationKind.DynamoWrite, OperationStatus.Indeterminate) + history.Count(OperationKind.PlainWrite, OperationStatus.Indeterminate)}, "
            + $"reads ok {history.Count(OperationKind.Read, OperationStatus.Ok)}), {ledger.Count} applied writes, {faults.Injected} faults, "
            + $"{network.MessagesSent} messages ({network.MessagesDropped} dropped, {network.MessagesDuplicated} duplicated, {network.RequestsInRuns} served in runs), "
            + $"hints stored {metrics.Total(ClusterMetrics.HintsStored)} replayed {metrics.Total(ClusterMetrics.HintsReplayed)}, read repairs {metrics.Total(ClusterMetrics.ReadRepairs)}, "
            + $"{membership.Changes} membership changes, {plans.Switches} ring switches judged, {network.Clock.ElapsedMs} simulated ms, {network.EventsRun} events";
        foreach (SimulatedNode node in nodes)
        {
            network.Log("end: " + node.Describe());
        }

        return new SimulationResult
        {
            Seed = seed,
            Options = options,
            History = history,
            Violations = violations,
            Trace = [.. network.Trace],
            Summary = summary,
            FaultsInjected = faults.Injected,
            MessagesDropped = network.MessagesDropped,
            MessagesDuplicated = network.MessagesDuplicated,
            RequestsInRuns = network.RequestsInRuns,
            HintsReplayed = metrics.Total(ClusterMetrics.HintsReplayed),
        };
    }

    /// <summary>
    /// After healing: operations in flight finish, every live node's failure detector sees every member up, any
    /// membership plan completes, hints drain, every key is read at R=N through every live node (a full read
    /// repair), hints drain again, and every key comes to rest on exactly its N primaries.
    /// </summary>
    private static void Settle(SimulatedNetwork network, SimulationOptions options, SimulatedNode[] nodes, Workload workload, List<string> problems, Func<IReadOnlyList<string>> hintGaps)
    {
        // A forwarded write may take two request timeouts per replica it tries: wait that long before the final repair.
        long settleStart = network.Clock.NowMs;
        long deadline = settleStart + options.SettleLimitMs;
        SimulatedNode[] live() => [.. nodes.Where(n => n.IsStarted && !n.IsRetired)];
        network.RunUntil(settleStart + options.ClientTimeoutMs + (2 * options.RequestTimeoutMs * options.ReplicationFactor));
        if (!network.RunWhile(() => !live().All(n => n.IsUp && n.SeesEveryoneUp()), deadline))
        {
            problems.Add("stuck: failure detectors never saw every node up after healing: " + Describe(nodes));
        }

        if (!network.RunWhile(() => !MembershipSchedule.Settled(nodes), deadline))
        {
            problems.Add("stuck: the members never agreed on a ring without a pending plan after healing: " + Describe(nodes));
        }

        DrainHints(network, live(), deadline, problems);
        problems.AddRange(hintGaps().Take(3));
        // The full read repair reads each key through every live node that is not one of its primaries (all of
        // them when every live node is one), so each repair travels to a remote replica: a primary coordinating the
        // read would repair its own copy in place and hide a repair sent to the wrong node. Only the current ring's
        // owners read: a node that has left the ring is still running until it has announced its departure, and its
        // reads would die with it when it retires.
        int outstanding = 0;
        int failedReads = 0;
        SimulatedNode ringHolder = live().FirstOrDefault(n => n.IsLiveMember) ?? live()[0];
        IReadOnlyList<NodeId> owners = ringHolder.RingOwners();
        SimulatedNode[] staying = [.. live().Where(n => owners.Contains(n.Id))];
        if (staying.Length == 0)
        {
            staying = live();
        }

        foreach (string key in workload.AllKeys)
        {
            IReadOnlyList<NodeId> primaries = ringHolder.IsLiveMember ? ringHolder.PrimariesOf(key) : [];
            SimulatedNode[] readers = [.. staying.Where(n => !primaries.Contains(n.Id))];
            foreach (SimulatedNode node in readers.Length > 0 ? readers : staying)
            {
                outstanding++;
                node.Get(key, options.ReplicationFactor, read =>
                {
                    outstanding--;
                    failedReads += read.Ok ? 0 : 1;
                });
            }
        }

        if (!network.RunWhile(() => outstanding > 0, deadline))
        {
            problems.Add($"stuck: {outstanding} final repair reads never answered");
        }

        // Repairs are sent once every target answered; give them time to land.
        network.RunUntil(network.Clock.NowMs + (2 * options.RequestTimeoutMs));
        if (failedReads > 0)
        {
            problems.Add($"final repair: {failedReads} reads at R=N failed with every node up and no faults");
        }

        DrainHints(network, live(), deadline, problems);

        // Copies left where they no longer belong (a lost partition, a fallback's copy) are handed off and deleted.
        if (!network.Poll(() => SimulationChecker.Misplaced(nodes, workload).Count == 0, 1_000, deadline + options.SettleLimitMs))
        {
            problems.AddRange(SimulationChecker.Misplaced(nodes, workload).Take(5));
        }
    }

    private static string Describe(IEnumerable<SimulatedNode> nodes) => string.Join("; ", nodes.Select(n => n.Describe()));

    private static void DrainHints(SimulatedNetwork network, SimulatedNode[] nodes, long deadline, List<string> problems)
    {
        if (!network.RunWhile(() => nodes.Any(n => n.HintCount > 0), deadline))
        {
            problems.Add("stuck: hints never drained: " + string.Join("; ", nodes.Select(n => n.Describe())));
        }
    }
}
