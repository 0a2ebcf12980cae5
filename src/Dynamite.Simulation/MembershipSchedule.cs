namespace Dynamite.Simulation;

/// <summary>
/// Membership changes during the workload, among the other faults: a spare node joins through the seeds, a member
/// leaves (its partitions are handed off, then it departs), and a member crashes for good and an operator removes
/// it from another node (its partitions are rebuilt from the surviving replicas). Each happens at most once, at a
/// random time; a change that would leave fewer than N + 1 members is skipped, and a removal spends one of the
/// run's wipes (its copies are gone, as a wiped node's are). A wiped node warming up comes from the fault injector.
/// </summary>
public sealed class MembershipSchedule
{
    private readonly SimulatedNetwork _network;
    private readonly SimulationOptions _options;
    private readonly IReadOnlyList<SimulatedNode> _nodes;
    private readonly FaultInjector _faults;

    public MembershipSchedule(SimulatedNetwork network, SimulationOptions options, IReadOnlyList<SimulatedNode> nodes, FaultInjector faults)
    {
        _network = network;
        _options = options;
        _nodes = nodes;
        _faults = faults;
    }

    public int Changes { get; private set; }

    public void Start()
    {
        Random random = _network.Random;
        long At(double from, double to) => (long)(_options.WorkloadMs * (from + (random.NextDouble() * (to - from))));
        _network.Schedule(At(0.05, 0.5), Join);
        _network.Schedule(At(0.2, 0.7), Leave);
        _network.Schedule(At(0.3, 0.8), CrashAndRemove);
    }

    private IReadOnlyList<SimulatedNode> LiveMembers() => [.. _nodes.Where(n => n.IsLiveMember)];

    private void Join()
    {
        if (_nodes.FirstOrDefault(n => !n.IsStarted) is not { } spare)
        {
            return;
        }

        Changes++;
        _network.Log($"membership: {spare.Id} starts and joins through its seeds");
        spare.Start();
    }

    private void Leave()
    {
        IReadOnlyList<SimulatedNode> members = LiveMembers();
        if (members.Count <= _options.ReplicationFactor + 1)
        {
            _network.Log("membership: no leave (too few members)");
            return;
        }

        SimulatedNode leaving = members[_network.Random.Next(members.Count)];
        if (leaving.Administer("leaves the cluster", membership => membership.Leave()))
        {
            Changes++;
        }
    }

    private void CrashAndRemove()
    {
        IReadOnlyList<SimulatedNode> members = LiveMembers();
        if (members.Count <= _options.ReplicationFactor + 1 || !_faults.TryTakeWipe())
        {
            _network.Log("membership: no removal (too few members, or no wipe left)");
            return;
        }

        SimulatedNode victim = members[_network.Random.Next(members.Count)];
        victim.LoseForGood("crashed for good; an operator will remove it");
        Changes++;
        _network.Schedule(_network.Random.NextInt64(500, 3_000), () => RemoveFromSurvivor(victim, attempt: 1));
    }

    /// <summary>The operator runs `dynamite remove` on some live member; retried a few times if that member cannot take it now.</summary>
    private void RemoveFromSurvivor(SimulatedNode victim, int attempt)
    {
        IReadOnlyList<SimulatedNode> members = LiveMembers();
        if (members.Count > 0)
        {
            SimulatedNode operatorNode = members[_network.Random.Next(members.Count)];
            if (operatorNode.Administer($"removes {victim.Id}", membership => membership.Remove(victim.Id)))
            {
                return;
            }
        }

        if (attempt < 20)
        {
            _network.Schedule(1_000, () => RemoveFromSurvivor(victim, attempt + 1));
        }
    }

    /// <summary>True when every live member holds the same cluster state and no plan is pending.</summary>
    public static bool Settled(IReadOnlyList<SimulatedNode> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ulong? digest = null;
        foreach (SimulatedNode node in nodes)
        {
            if (node.IsRetired || !node.IsStarted)
            {
                continue;
            }

            if (node.Runtime?.Membership.State is not { Ring: { } ring } state || ring.Pending is not null)
            {
                return false;
            }

            if (digest is { } first && first != state.Digest)
            {
                return false;
            }

            digest = state.Digest;
        }

        return digest is not null;
    }

}
