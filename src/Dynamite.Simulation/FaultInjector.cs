using Dynamite.Core.Membership;

namespace Dynamite.Simulation;

/// <summary>
/// Injects the enabled node and partition faults at random times during the workload, each healing after a
/// random duration, and heals everything at once when the workload ends (<see cref="HealAll"/>). Message faults
/// (loss, duplication, reordering) are the network's and last for the whole workload.
/// </summary>
public sealed class FaultInjector
{
    private const FaultKinds Scheduled = FaultKinds.PartitionOne | FaultKinds.PartitionHalves | FaultKinds.PartitionOneWay
        | FaultKinds.CrashKeep | FaultKinds.CrashWipe | FaultKinds.Pause | FaultKinds.ClockSkew;

    private readonly SimulatedNetwork _network;
    private readonly SimulationOptions _options;
    private readonly IReadOnlyList<SimulatedNode> _nodes;
    private readonly FaultKinds[] _kinds;
    private readonly List<(NodeId Node, long AtMs)> _crashes = [];
    private int _wipes;

    public FaultInjector(SimulatedNetwork network, SimulationOptions options, IReadOnlyList<SimulatedNode> nodes)
    {
        _network = network;
        _options = options;
        _nodes = nodes;
        _kinds = [.. Enum.GetValues<FaultKinds>().Where(k => k != FaultKinds.None && (Scheduled & k) == k && (options.Faults & k) == k && k != FaultKinds.All)];
    }

    public int Injected { get; private set; }

    /// <summary>Wipes spent so far (crash-wipes and removals).</summary>
    public int Wipes => _wipes;

    /// <summary>Every crash the injector caused: which node, at what elapsed time.</summary>
    public IReadOnlyList<(NodeId Node, long AtMs)> Crashes => _crashes;

    /// <summary>Takes one of the run's wipes (<see cref="SimulationOptions.MaxWipes"/>); a removed node's data is gone as a wiped node's is.</summary>
    public bool TryTakeWipe()
    {
        if (_wipes >= _options.MaxWipes)
        {
            return false;
        }

        _wipes++;
        return true;
    }

    public void Start()
    {
        _network.MessageFaultsActive = (_options.Faults & (FaultKinds.Loss | FaultKinds.Duplication | FaultKinds.Reordering)) != 0;
        if (_kinds.Length > 0)
        {
            ScheduleNext();
        }
    }

    /// <summary>Ends every fault: links healed, message faults off, crashed nodes restarted with their storage, pauses over.</summary>
    public void HealAll()
    {
        _network.MessageFaultsActive = false;
        _network.HealAllLinks();
        foreach (SimulatedNode node in _nodes)
        {
            if (!node.IsUp && node.IsStarted && !node.IsRetired)
            {
                node.Restart(wipe: false);
                _network.Log($"heal: restart {node.Id} (storage kept)");
            }

            node.Resume();
        }

        _network.Log("heal: all links healed, message faults off");
    }

    private void ScheduleNext() =>
        _network.Schedule(_network.Random.NextInt64(0, (2 * _options.MeanFaultIntervalMs) + 1), () =>
        {
            if (_network.Clock.ElapsedMs >= _options.WorkloadMs)
            {
                return;
            }

            Inject(_kinds[_network.Random.Next(_kinds.Length)]);
            ScheduleNext();
        });

    private void Inject(FaultKinds kind)
    {
        Random random = _network.Random;
        long duration = random.NextInt64(500, Math.Max(501, _options.MaxFaultDurationMs + 1));
        SimulatedNode victim = _nodes[random.Next(_nodes.Count)];
        Injected++;
        switch (kind)
        {
            case FaultKinds.PartitionOne:
                Partition([victim.Id], [.. _nodes.Where(n => n != victim).Select(n => n.Id)], bothWays: true, duration, $"isolate {victim.Id}");
                break;
            case FaultKinds.PartitionHalves:
                {
                    NodeId[] shuffled = [.. _nodes.Select(n => n.Id)];
                    random.Shuffle(shuffled);
                    int cut = 1 + random.Next(Math.Max(1, shuffled.Length - 1));
                    Partition(shuffled[..cut], shuffled[cut..], bothWays: true, duration, $"split {string.Join(",", shuffled[..cut])} | {string.Join(",", shuffled[cut..])}");
                    break;
                }

            case FaultKinds.PartitionOneWay:
                Partition([victim.Id], [.. _nodes.Where(n => n != victim).Select(n => n.Id)], bothWays: false, duration, $"one-way: {victim.Id} cannot send");
                break;
            case FaultKinds.CrashKeep:
            case FaultKinds.CrashWipe:
                {
                    if (!victim.IsUp)
                    {
                        break;
                    }

                    bool wipe = kind == FaultKinds.CrashWipe && TryTakeWipe();
                    victim.Crash();
                    _crashes.Add((victim.Id, _network.Clock.ElapsedMs));
                    _network.Log($"crash {victim.Id} for {duration} ms, then restart {(wipe ? "WIPED" : "with storage")}");
                    _network.Schedule(duration, () =>
                    {
                        if (!victim.IsUp)
                        {
                            victim.Restart(wipe);
                            _network.Log($"restart {victim.Id}{(wipe ? $" wiped, incarnation {victim.Incarnation}" : "")}");
                        }
                    });
                    break;
                }

            case FaultKinds.Pause:
                victim.Pause(_network.Clock.NowMs + duration);
                _network.Log($"pause {victim.Id} for {duration} ms");
                break;
            case FaultKinds.ClockSkew:
                {
                    long skew = random.NextInt64(-_options.MaxClockSkewMs, _options.MaxClockSkewMs + 1);
                    victim.ClockSkewMs = skew;
                    _network.Log($"skew {victim.Id} clock by {skew} ms for {duration} ms");
                    _network.Schedule(duration, () => victim.ClockSkewMs = 0);
                    break;
                }

            default:
                throw new InvalidOperationException($"Fault {kind} is not scheduled.");
        }
    }

    private void Partition(NodeId[] side, NodeId[] other, bool bothWays, long duration, string description)
    {
        var links = new List<(NodeId, NodeId)>();
        foreach (NodeId a in side)
        {
            foreach (NodeId b in other)
            {
                links.Add((a, b));
                if (bothWays)
                {
                    links.Add((b, a));
                }
            }
        }

        foreach ((NodeId from, NodeId to) in links)
        {
            _network.Block(from, to);
        }

        _network.Log($"partition {description} for {duration} ms");
        _network.Schedule(duration, () =>
        {
            foreach ((NodeId from, NodeId to) in links)
            {
                _network.Unblock(from, to);
            }

            _network.Log($"heal partition {description}");
        });
    }
}
