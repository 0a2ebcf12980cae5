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
        var descriptors = Enumerable.Range(1, options.NodeCount).Select(i => new NodeDescriptor(new NodeId($"n{i}"), "dc1", $"r{i}")).ToArray();
        string[] seeds = [.. descriptors.Select(d => SimulatedNode.AddressOf(d.Id))];
        SimulatedNode[] nodes = [.. descriptors.Select(d => new SimulatedNode(d, cluster, options, ledger, seeds))];
        foreach (SimulatedNode node in nodes)
        {
            cluster.Add(node);
        }

        foreach (SimulatedNode node in nodes)
        {
            node.Start();
        }

        var problems = new List<string>();

        // The nodes find each other through their seeds and found the cluster, as real nodes do. A founder that learns
        // the ring by gossip before founding it cannot tell itself from a wiped member and warms up (from empty peers,
        // which is quick); the workload starts once every node serves.
        if (!network.RunWhile(() => nodes.Any(n => n.Runtime is not { Membership: { Map: not null, IsWarming: false } }), SimulatedClock.StartUnixMs + options.FormationLimitMs))
        {
            problems.Add("stuck: the nodes never founded the cluster: " + string.Join("; ", nodes.Select(n => n.Describe())));
        }

        var workload = new Workload(network, options, nodes, history, ledger);
        var faults = new FaultInjector(network, options, nodes);
        workload.Start();
        faults.Start();
        network.RunUntil(SimulatedClock.StartUnixMs + options.WorkloadMs);
        faults.HealAll();

        // Operations still in flight finish (or their clients time out); a forwarded write may take two request
        // timeouts per replica it tries, so wait that long before the final repair reads anything.
        long settleStart = network.Clock.NowMs;
        long deadline = settleStart + options.SettleLimitMs;
        network.RunUntil(settleStart + options.ClientTimeoutMs + (2 * options.RequestTimeoutMs * options.ReplicationFactor));
        if (!network.RunWhile(() => !nodes.All(n => n.IsUp && n.SeesEveryoneUp()), deadline))
        {
            problems.Add("stuck: failure detectors never saw every node up after healing: " + string.Join("; ", nodes.Select(n => n.Describe())));
        }

        DrainHints(network, nodes, deadline, problems);
        int outstanding = 0;
        int failedReads = 0;
        foreach (SimulatedNode node in nodes)
        {
            foreach (string key in workload.AllKeys)
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

        DrainHints(network, nodes, deadline, problems);
        problems.AddRange(network.ForeignWork.Take(3).Select(work => "nondeterminism: " + work));
        problems.AddRange(network.Unexpected.Take(3).Select(what => "unexpected exception: " + what));
        var violations = new List<string>(problems);
        violations.AddRange(SimulationChecker.Check(nodes, workload, history, ledger, options.SetPolicy));
        string summary =
            $"{history.Entries.Count} ops (writes ok {history.Count(OperationKind.DynamoWrite, OperationStatus.Ok) + history.Count(OperationKind.PlainWrite, OperationStatus.Ok)}, "
            + $"indeterminate {history.Count(OperationKind.DynamoWrite, OperationStatus.Indeterminate) + history.Count(OperationKind.PlainWrite, OperationStatus.Indeterminate)}, "
            + $"reads ok {history.Count(OperationKind.Read, OperationStatus.Ok)}), {ledger.Count} applied writes, {faults.Injected} faults, "
            + $"{network.MessagesSent} messages ({network.MessagesDropped} dropped, {network.MessagesDuplicated} duplicated), "
            + $"hints stored {nodes.Sum(n => n.HintsStored)} replayed {nodes.Sum(n => n.HintsReplayed)}, read repairs {nodes.Sum(n => n.ReadRepairs)}, "
            + $"{network.Clock.ElapsedMs} simulated ms, {network.EventsRun} events";
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
            HintsReplayed = nodes.Sum(n => n.HintsReplayed),
        };
    }

    private static void DrainHints(SimulatedNetwork network, SimulatedNode[] nodes, long deadline, List<string> problems)
    {
        if (!network.RunWhile(() => nodes.Any(n => n.HintCount > 0), deadline))
        {
            problems.Add("stuck: hints never drained: " + string.Join("; ", nodes.Select(n => n.Describe())));
        }
    }
}
