using System.Text;
using Dynamite.Core.Coordination;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;

namespace Dynamite.Simulation;

/// <summary>
/// One simulated Dynamite node: an in-memory replica store and hint store, a <see cref="PeerHealthTracker"/>
/// fed by simulated pings, and coordinators that drive the core's <see cref="GetRequest"/> and
/// <see cref="PutRequest"/> exactly as the runtime's ClusterCoordinator does (local write first, replica or
/// hinted writes, a hint for every write that is not acknowledged, read repair of stale primaries, forwarding
/// a write to a replica), with HintedHandoff's periodic replay. Only the transport differs: messages are
/// closures the <see cref="SimulatedNetwork"/> delivers.
/// <para>
/// Crash: the node stops; its timers and every message to it that has not arrived yet are dropped (each carries
/// the node's epoch, bumped on crash and restart), and its in-flight requests are forgotten, as a process exit
/// forgets them. Store and hints are its storage: kept or wiped on restart; a wipe starts a new incarnation,
/// hence a new actor id, as ClusterServices does for a memory engine. Pause: events for the node wait until the
/// pause ends.
/// </para>
/// </summary>
public sealed class SimulatedNode
{
    private const string Datacenter = "dc1";

    private readonly SimulatedNetwork _network;
    private readonly SimulationOptions _options;
    private readonly PartitionMap _map;
    private readonly KeyPartitioner _partitioner;
    private readonly WriteLedger _ledger;
    private readonly Dictionary<string, VersionedObject> _store = new(StringComparer.Ordinal);

    // Hints by (node the copy is for, key); a second hint for the same pair merges into the first (HintStore.AddAsync).
    private readonly SortedDictionary<(NodeId Owner, string Key), VersionedObject> _hints = new(HintOrder.Instance);
    private IReadOnlyDictionary<NodeId, SimulatedNode> _cluster = new Dictionary<NodeId, SimulatedNode>();
    private PeerHealthTracker _health = new();

    // Bumped on crash and on restart: a timer or message stamped with an older epoch is dropped.
    private int _epoch;

    public SimulatedNode(NodeId id, SimulatedNetwork network, SimulationOptions options, PartitionMap map, WriteLedger ledger)
    {
        Id = id;
        _network = network;
        _options = options;
        _map = map;
        _partitioner = new KeyPartitioner(map.PartitionBits);
        _ledger = ledger;
    }

    public NodeId Id { get; }

    /// <summary>Bumped by every wipe; part of the actor id so a wiped node never reissues a dot.</summary>
    public int Incarnation { get; private set; } = 1;

    public NodeId Actor => new($"{Id}.{Incarnation}");

    public bool IsUp { get; private set; }

    public long PausedUntilMs { get; private set; }

    /// <summary>Offset of this node's wall clock (write timestamps); timers and the failure detector use monotonic time.</summary>
    public long ClockSkewMs { get; set; }

    public long WallClockMs => _network.Clock.NowMs + ClockSkewMs;

    public int HintCount => _hints.Count;

    public long ReadRepairs { get; private set; }

    public long HintsStored { get; private set; }

    public long HintsReplayed { get; private set; }

    public IReadOnlyDictionary<string, VersionedObject> Store => _store;

    public void Connect(IReadOnlyDictionary<NodeId, SimulatedNode> cluster) => _cluster = cluster;

    public bool SeesAsReachable(NodeId peer) => peer == Id || _health.IsReachable(peer);

    public void Start()
    {
        IsUp = true;
        _epoch++;
        _health = new PeerHealthTracker(new PeerHealthOptions { FirstHeartbeatEstimateMs = _options.PingIntervalMs });
        foreach (NodeId peer in _cluster.Keys)
        {
            if (peer != Id)
            {
                _health.AddPeer(peer);
            }
        }

        After(_network.Random.NextInt64(0, _options.PingIntervalMs), PingRound);
        After(_network.Random.NextInt64(0, _options.HintReplayIntervalMs), HintRound);
    }

    public void Crash()
    {
        IsUp = false;
        _epoch++;
        PausedUntilMs = 0;
    }

    /// <summary>Restarts a crashed node; with <paramref name="wipe"/> its store and hints are gone and it is a new incarnation.</summary>
    public void Restart(bool wipe)
    {
        if (wipe)
        {
            _store.Clear();
            _hints.Clear();
            Incarnation++;
        }

        Start();
    }

    public void Pause(long untilMs) => PausedUntilMs = Math.Max(PausedUntilMs, untilMs);

    /// <summary>Ends a pause now; events held for the pause still run at its original end, in order.</summary>
    public void Resume() => PausedUntilMs = 0;

    /// <summary>A client request arriving at this node: runs now, after the pause, or never if the node is down.</summary>
    public bool Submit(Action request)
    {
        if (!IsUp)
        {
            return false;
        }

        Deliver(_epoch, request);
        return true;
    }

    /// <summary>The partition's primaries (reachability ignored): the nodes whose stores must converge.</summary>
    public IReadOnlyList<NodeId> PrimariesOf(string key) =>
        PreferenceListBuilder.PrimariesOf(_map, _partitioner.PartitionOf(Encoding.UTF8.GetBytes(key)), Datacenter, _options.ReplicationFactor);

    /// <summary>
    /// A quorum read coordinated here (ClusterCoordinator.GetAsync): the request's targets asked (all, or R with this
    /// node's copy first), a stand-by asked for each failure and for each target slow to answer, R replies answer,
    /// stale primaries asked are repaired.
    /// </summary>
    public void Get(string key, int r, Action<ReadOutcome> done)
    {
        PreferenceList list = PreferenceListOf(key, out int n);
        var request = new GetRequest(list, n, r, requireAgreement: false, readRepair: true, _options.ReadFanout, Id);
        bool answered = false;

        void Ask(NodeId target)
        {
            Request(
                target,
                replica => replica._store.GetValueOrDefault(key),
                reply => Handle(request.OnReply(target, reply)),
                () => Handle(request.OnFailure(target)));
            After(_options.SpeculativeReadDelayMs, () => Handle(request.OnSlow(target)));
        }

        void Handle(GetStep step)
        {
            if ((step & GetStep.Ask) != 0 && request.NextTarget is { } next)
            {
                if (next.Node == Id)
                {
                    Handle(request.OnReply(Id, _store.GetValueOrDefault(key)));
                }
                else
                {
                    Ask(next.Node);
                }
            }

            if ((step & GetStep.Answer) != 0 && !answered)
            {
                answered = true;
                done(request.Outcome is GetOutcome.Ok or GetOutcome.NotFound
                    ? new ReadOutcome(true, request.Merged, null)
                    : ReadOutcome.Failed($"read quorum not reached at {Id}: {request.Replies} of {request.R} ({list})"));
            }

            if ((step & GetStep.Repair) != 0)
            {
                Repair(key, request.Merged, [.. request.RepairTargets]);
            }
        }

        if (request.Phase != GetPhase.AwaitingQuorum)
        {
            Handle(GetStep.Answer);
        }

        bool selfIsTarget = false;
        foreach (PreferenceListEntry entry in request.Targets)
        {
            if (entry.Node == Id)
            {
                selfIsTarget = true;
                continue;
            }

            Ask(entry.Node);
        }

        if (selfIsTarget)
        {
            Handle(request.OnReply(Id, _store.GetValueOrDefault(key)));
        }
    }

    /// <summary>
    /// A quorum write (ClusterCoordinator.PutAsync): coordinated here when this node is in the preference list,
    /// otherwise forwarded to the list's replicas in order (unless <paramref name="mayForward"/> is false).
    /// A null <paramref name="context"/> supersedes whatever this replica holds (a plain SET).
    /// </summary>
    public void Put(string key, VersionVector? context, string value, int w, bool mayForward, Action<WriteOutcome> done)
    {
        PreferenceList list = PreferenceListOf(key, out _);
        if (!PutRequest.CanCoordinate(list, Id))
        {
            if (!mayForward)
            {
                done(WriteOutcome.Failed($"{Id} is not a replica of {list.Partition} either"));
                return;
            }

            Forward(list, 0, key, context, value, w, done);
            return;
        }

        var request = new PutRequest(list, Id, w);
        VersionedObject local = _store.GetValueOrDefault(key) ?? VersionedObject.Empty;
        VersionedObject written = local.Update(context ?? local.Context, Actor, Encoding.UTF8.GetBytes(value), WallClockMs, 0);
        _store[key] = written;
        var dot = new Dot(Actor, written.Context.Get(Actor));
        _ledger.Record(new AppliedWrite(key, value, dot, context, _network.Clock.ElapsedMs));
        _network.Log($"{Id} coordinates {key}={value} dot {dot} list {list}{(request.HintsAtCoordinator.Count > 0 ? $" hints here for {string.Join(",", request.HintsAtCoordinator)}" : "")}");
        foreach (NodeId owner in request.HintsAtCoordinator)
        {
            AddHint(owner, key, written);
        }

        if (request.LocalHintFor is { } standingInFor)
        {
            AddHint(standingInFor, key, written);
        }

        bool answered = false;
        void Answer()
        {
            if (!answered)
            {
                answered = true;
                done(request.Outcome == PutOutcome.Ok
                    ? new WriteOutcome(true, dot, null)
                    : WriteOutcome.Failed($"write quorum not reached at {Id}: {request.Acknowledgements} of {request.W} ({list})"));
            }
        }

        request.OnLocalWrite();
        if (request.Outcome != PutOutcome.Pending)
        {
            Answer();
        }

        foreach (PreferenceListEntry entry in request.ReplicaWrites)
        {
            PreferenceListEntry target = entry;
            void Handle(PutStep step, NodeId hintOwner)
            {
                if ((step & PutStep.StoreHint) != 0)
                {
                    _network.Log($"{Id} hint {key} dot {dot} for {hintOwner} (write to {target.Node} failed)");
                    AddHint(hintOwner, key, written);
                }

                if ((step & PutStep.Answer) != 0)
                {
                    Answer();
                }
            }

            Request(
                target.Node,
                replica =>
                {
                    if (target.IsPrimary || target.HintFor is null)
                    {
                        replica.MergeIntoStore(key, written);
                    }
                    else
                    {
                        replica.AddHint(target.HintFor.Value, key, written);
                    }

                    return true;
                },
                _ => Handle(request.OnAck(target.Node), default),
                () =>
                {
                    PutStep step = request.OnFailure(target.Node, out NodeId hintOwner);
                    Handle(step, hintOwner);
                });
        }
    }

    /// <summary>True when this node has no hints and sees every node as reachable.</summary>
    public bool SeesEveryoneUp()
    {
        foreach (NodeId peer in _cluster.Keys)
        {
            if (!SeesAsReachable(peer))
            {
                return false;
            }
        }

        return true;
    }

    public string Describe() =>
        $"{Id} {(IsUp ? "up" : "down")} inc={Incarnation} keys={_store.Count} hints={_hints.Count} skew={ClockSkewMs} "
        + $"view=[{string.Join(",", _cluster.Keys.Where(p => p != Id).Select(p => $"{p}:{_health.GetHealth(p)}"))}]";

    /// <summary>ClusterCoordinator.ForwardPutAsync: the first replica that answers coordinates; a failure tries the next one.</summary>
    private void Forward(PreferenceList list, int index, string key, VersionVector? context, string value, int w, Action<WriteOutcome> done)
    {
        if (index >= list.Entries.Length)
        {
            done(WriteOutcome.Failed($"could not forward the write to a replica of {list.Partition} ({list})"));
            return;
        }

        NodeId target = list.Entries[index].Node;
        bool settled = false;
        int epoch = _epoch;
        SimulatedNode replica = _cluster[target];
        int replicaEpoch = replica._epoch;
        _network.Send(Id, target, () => replica.Deliver(replicaEpoch, () => replica.Put(key, context, value, w, mayForward: false, outcome =>
            _network.Send(target, Id, () => Deliver(epoch, () =>
            {
                if (settled)
                {
                    return;
                }

                // The replica coordinated: its answer, acknowledged or not, is the client's (CoordinatePutReply).
                settled = true;
                done(outcome);
            })))));
        After(2 * _options.RequestTimeoutMs, () =>
        {
            if (!settled)
            {
                settled = true;
                Forward(list, index + 1, key, context, value, w, done);
            }
        });
    }

    /// <summary>Sends merged to each stale primary (ClusterCoordinator.RepairAsync): best effort, no retry.</summary>
    private void Repair(string key, VersionedObject merged, NodeId[] stale)
    {
        foreach (NodeId node in stale)
        {
            ReadRepairs++;
            if (node == Id)
            {
                MergeIntoStore(key, merged);
                continue;
            }

            SimulatedNode replica = _cluster[node];
            int replicaEpoch = replica._epoch;
            _network.Send(Id, node, () => replica.Deliver(replicaEpoch, () => replica.MergeIntoStore(key, merged)));
        }
    }

    /// <summary>
    /// One request-response exchange with a peer: <paramref name="serve"/> runs at the peer, its result comes back
    /// to <paramref name="onReply"/>; <paramref name="onFailure"/> runs after the request timeout. Both may run
    /// (a late reply): the core's state machines ignore a second answer from one node.
    /// </summary>
    private void Request<T>(NodeId target, Func<SimulatedNode, T> serve, Action<T> onReply, Action onFailure)
    {
        SimulatedNode replica = _cluster[target];
        int replicaEpoch = replica._epoch;
        int epoch = _epoch;
        _network.Send(Id, target, () => replica.Deliver(replicaEpoch, () =>
        {
            T reply = serve(replica);
            _network.Send(target, Id, () => Deliver(epoch, () => onReply(reply)));
        }));
        After(_options.RequestTimeoutMs, onFailure);
    }

    private void MergeIntoStore(string key, VersionedObject incoming)
    {
        VersionedObject local = _store.GetValueOrDefault(key) ?? VersionedObject.Empty;
        VersionedObject merged = local.Merge(incoming);
        if (!merged.IsEmpty)
        {
            _store[key] = merged;
        }
    }

    private void AddHint(NodeId owner, string key, VersionedObject obj)
    {
        if (obj.IsEmpty)
        {
            return;
        }

        HintsStored++;
        _hints[(owner, key)] = _hints.TryGetValue((owner, key), out VersionedObject? held) ? held.Merge(obj) : obj;
    }

    /// <summary>FailureDetectorLoop: ping every peer; a reply is a heartbeat, no reply within the timeout a failure.</summary>
    private void PingRound()
    {
        foreach (NodeId peer in _cluster.Keys)
        {
            if (peer == Id)
            {
                continue;
            }

            bool replied = false;
            NodeId target = peer;
            Request(
                target,
                static _ => true,
                _ =>
                {
                    if (!replied)
                    {
                        replied = true;
                        _health.RecordSuccess(target, _network.Clock.NowMs);
                    }
                },
                () =>
                {
                    if (!replied)
                    {
                        replied = true;
                        _health.RecordFailure(target, _network.Clock.NowMs);
                    }
                });
        }

        _health.Evaluate(_network.Clock.NowMs);
        After(_options.PingIntervalMs, PingRound);
    }

    /// <summary>HintedHandoff: each hint for a reachable node is sent as a replica put and removed once acknowledged and unchanged.</summary>
    private void HintRound()
    {
        foreach (((NodeId owner, string key), VersionedObject obj) in _hints.ToArray())
        {
            if (!_health.IsReachable(owner))
            {
                continue;
            }

            bool settled = false;
            Request(
                owner,
                replica =>
                {
                    replica.MergeIntoStore(key, obj);
                    return true;
                },
                _ =>
                {
                    if (!settled)
                    {
                        settled = true;
                        if (_hints.TryGetValue((owner, key), out VersionedObject? held) && held.Equals(obj))
                        {
                            _hints.Remove((owner, key));
                            HintsReplayed++;
                        }
                    }
                },
                () => settled = true);
        }

        After(_options.HintReplayIntervalMs, HintRound);
    }

    private PreferenceList PreferenceListOf(string key, out int n)
    {
        PartitionId partition = _partitioner.PartitionOf(Encoding.UTF8.GetBytes(key));
        PreferenceList list = PreferenceListBuilder.Build(_map, partition, Datacenter, _options.ReplicationFactor, SeesAsReachable);
        n = Math.Max(1, list.Primaries.Length);
        return list;
    }

    /// <summary>A timer of this node: dropped if the node crashes before it fires, delayed by a pause.</summary>
    private void After(long delayMs, Action action)
    {
        int epoch = _epoch;
        _network.Schedule(delayMs, () => Deliver(epoch, action));
    }

    private void Deliver(int epoch, Action action)
    {
        if (!IsUp || epoch != _epoch)
        {
            return;
        }

        long now = _network.Clock.NowMs;
        if (PausedUntilMs > now)
        {
            _network.Schedule(PausedUntilMs - now, () => Deliver(epoch, action));
            return;
        }

        action();
    }
}
