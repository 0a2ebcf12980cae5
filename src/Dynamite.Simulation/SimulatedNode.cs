using System.Text;
using Dynamite.Cluster.Coordination;
using Dynamite.Cluster.Membership;
using Dynamite.Cluster.Metrics;
using Dynamite.Cluster.Node;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.State;
using Dynamite.Cluster.Transport;
using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.DataTypes;
using Dynamite.Core.Gossip;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;
using Dynamite.Storage.Memory;

namespace Dynamite.Simulation;

/// <summary>
/// One simulated Dynamite node: wiring only. The node is the production runtime (<see cref="ClusterNode"/>: the
/// coordinator, replica and hint stores, hinted handoff, gossip membership with its seed joiner, the failure
/// detector, anti-entropy, tombstone collection, partition handoff, the peer request router) composed over the
/// memory engine, in-memory state files, the simulated network (<see cref="SimulatedPeerClient"/>) and the
/// process's simulated clock, with its randomness drawn from the run's seed. Nothing here decides anything a
/// node decides.
/// <para>
/// Crash: the process dies and the runtime with it (every timer, continuation and message of the old process is
/// dropped); the engines and state files are the node's disk: kept on restart, or wiped, in which case the node
/// starts with a new incarnation (a new actor id) and, finding itself in the ring, warms up as a replaced node.
/// </para>
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "A simulated node is never shut down: its runtime dies with a crash or the run, and memory engines hold nothing to release.")]
public sealed partial class SimulatedNode
{
    private readonly SimulatedCluster _cluster;
    private readonly SimulationOptions _options;
    private readonly WriteLedger _ledger;
    private readonly IReadOnlyList<string> _seeds;
    private readonly PlanChecker _plans;
    private readonly MemoryNodeStateStore _files = new();
    private readonly List<long> _wipedAtMs = [];
    private MemoryStorageEngine _engine;
    private MemoryStorageEngine _hintEngine;
    private KeyPartitioner _partitioner;
    private ClusterNode? _runtime;

    /// <summary>The live runtime's peer listener dispatch; replaced with the runtime.</summary>
    private SimulatedRequestDispatch? _dispatch;

    private readonly ClusterMetrics _metrics;

    public SimulatedNode(NodeDescriptor descriptor, SimulatedCluster cluster, SimulationOptions options, WriteLedger ledger, IReadOnlyList<string> seeds, PlanChecker plans, SimulationMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _metrics = metrics.ForNode(descriptor.Id.Value);
        _plans = plans;
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(cluster);
        Descriptor = descriptor;
        _cluster = cluster;
        _options = options;
        _ledger = ledger;
        _seeds = seeds;
        Address = AddressOf(descriptor.Id);
        Identity = new PeerIdentity(descriptor.Id.Value, descriptor.Datacenter, descriptor.Rack);
        Process = new SimulatedProcess(descriptor.Id.Value, cluster.Network);
        _partitioner = new KeyPartitioner(options.PartitionBits);
        _engine = new MemoryStorageEngine(_partitioner);
        _hintEngine = new MemoryStorageEngine(_partitioner);
    }

    public NodeDescriptor Descriptor { get; }

    public NodeId Id => Descriptor.Id;

    public string Address { get; }

    public PeerIdentity Identity { get; }

    public SimulatedProcess Process { get; }

    /// <summary>The runtime of the live process; null while the node is down.</summary>
    public ClusterNode? Runtime => _runtime;

    /// <summary>Bumped by every wipe (the runtime then picks a new actor id on its own).</summary>
    public int Incarnation { get; private set; } = 1;

    public bool IsUp => Process.IsUp;

    /// <summary>Started at least once (a spare waits for the membership schedule to join it).</summary>
    public bool IsStarted { get; private set; }

    /// <summary>Left the cluster or was removed from it: its process is gone for good and its data no longer counts.</summary>
    public bool IsRetired { get; private set; }

    /// <summary>Up, not retired, and a member of the ring it holds.</summary>
    public bool IsLiveMember =>
        IsUp && !IsRetired && _runtime is { } runtime && runtime.Membership.Map is not null
        && runtime.Membership.State.TryGetMember(Id, out MemberRecord? self) && self!.Status != MemberStatus.Removed;

    public long ClockSkewMs
    {
        get => Process.ClockSkewMs;
        set => Process.ClockSkewMs = value;
    }

    public int HintCount => (int)(_runtime?.Hints.Count ?? 0);

    /// <summary>Every object this node's engine holds, by key: its disk, readable even while it is down.</summary>
    public IReadOnlyDictionary<string, VersionedObject> Store
    {
        get
        {
            var objects = new Dictionary<string, VersionedObject>(StringComparer.Ordinal);
            var replicas = new ReplicaStore(_engine, Process.Clock);
            for (int p = 0; p < _partitioner.PartitionCount; p++)
            {
                foreach ((byte[] key, VersionedObject obj) in replicas.ReadPartition(new PartitionId(p)))
                {
                    objects[Encoding.UTF8.GetString(key)] = obj;
                }
            }

            return objects;
        }
    }

    public static string AddressOf(NodeId node) => $"{node}.sim:7000";

    /// <summary>Starts the node's process and runtime (a first start, or a restart after a crash).</summary>
    public void Start()
    {
        if (IsRetired)
        {
            return;
        }

        IsStarted = true;
        Process.Start();
        Process.Run(Process.Epoch, () =>
        {
            var options = new ClusterNodeOptions
            {
                Cluster = new ClusterOptions
                {
                    Self = Descriptor,
                    PartitionBits = _options.PartitionBits,
                    ReplicationFactor = _options.ReplicationFactor,
                    ReadQuorum = _options.ReadQuorum,
                    WriteQuorum = _options.WriteQuorum,
                    ReadFanout = _options.ReadFanout,
                    HintedHandoff = _options.HintedHandoff,
                    ReadRepair = _options.ReadRepair,
                    RequestTimeout = TimeSpan.FromMilliseconds(_options.RequestTimeoutMs),
                    SpeculativeReadDelay = TimeSpan.FromMilliseconds(_options.SpeculativeReadDelayMs),
                },
                AdvertisedAddress = Address,
                Seeds = _seeds,
                AntiEntropy = _options.AntiEntropyIntervalMs > 0,
                AntiEntropyInterval = TimeSpan.FromMilliseconds(Math.Max(1, _options.AntiEntropyIntervalMs)),
                PingInterval = TimeSpan.FromMilliseconds(_options.PingIntervalMs),
                PingTimeout = TimeSpan.FromMilliseconds(_options.PingTimeoutMs),
                Gossip = new GossipOptions { Interval = TimeSpan.FromMilliseconds(_options.GossipIntervalMs) },
            };
            _runtime = new ClusterNode(
                options,
                _engine,
                _hintEngine,
                _cluster.ConnectorFor(this),
                _files,
                Process.Clock,
                new Random(_cluster.Network.Random.Next()),
                new TraceLoggerFactory(_cluster.Network, Id.Value),
                _metrics,
                new LedgerObserver(_ledger));
            // The server stops once the node left the cluster and every member heard of it; so does the simulated process.
            ClusterNode runtime = _runtime;
            _dispatch = new SimulatedRequestDispatch(runtime.Router, Process, _cluster.Network, _options.PeerRequestRuns);
            _runtime.Membership.Departed += () => _ = RetireAfterAnnouncingAsync(runtime);
            _runtime.Membership.StateChanged += state => _plans.Observe(Id, state, _cluster.Network.Clock.ElapsedMs);
            _runtime.Start();
        });
    }

    private async Task RetireAfterAnnouncingAsync(ClusterNode runtime)
    {
        IReadOnlyList<NodeId> unreached = await runtime.Gossip.AnnounceDepartureAsync(GossipLoop.DepartureAnnouncementLimit, CancellationToken.None);
        if (!ReferenceEquals(_runtime, runtime) || IsRetired)
        {
            // The process crashed (or was retired) while announcing: that crash stands.
            return;
        }

        Retire(unreached.Count == 0 ? "left the cluster" : $"left the cluster; {string.Join(", ", unreached)} never heard of it");
    }

    /// <summary>The node's process stops for good (it left, or an operator removes it after this crash).</summary>
    public void Retire(string why)
    {
        _cluster.Network.Log($"{Id} retired: {why}");
        Crash();
        IsRetired = true;
    }

    /// <summary>
    /// The node crashes for good (an operator then removes it): like a wipe, what it alone held is gone, writes it
    /// coordinated but could not send and the hints it kept included, so the checkers count its loss as a wipe's.
    /// </summary>
    public void LoseForGood(string why)
    {
        _wipedAtMs.Add(_cluster.Network.Clock.ElapsedMs);
        Retire(why);
    }

    /// <summary>Runs <paramref name="change"/> against this node's membership, in its process (an operator's admin call).</summary>
    public bool Administer(string what, Func<GossipMembership, ClusterState> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (_runtime is not { } runtime || !IsUp)
        {
            return false;
        }

        bool done = false;
        InProcess(() =>
        {
            try
            {
                change(runtime.Membership);
                done = true;
                _cluster.Network.Log($"{Id}: {what}");
            }
            catch (Exception exception) when (exception is InvalidOperationException or KeyNotFoundException)
            {
                _cluster.Network.Log($"{Id}: {what} refused: {exception.Message}");
            }
        });
        return done;
    }

    /// <summary>When each wipe happened, or the node was lost for good (elapsed simulated ms): what the node held before
    /// is gone, its hints too.</summary>
    public IReadOnlyList<long> WipedAtMs => _wipedAtMs;

    public void Crash()
    {
        // Abandoned, not disposed: a killed process runs no shutdown. Its events die with the process's epoch.
        _runtime = null;
        _dispatch = null;
        Process.Crash();
    }

    /// <summary>Restarts a crashed node; with <paramref name="wipe"/> its disk is gone (data, hints, state files).</summary>
    public void Restart(bool wipe)
    {
        if (IsRetired || !IsStarted)
        {
            return;
        }

        if (wipe)
        {
            _engine = new MemoryStorageEngine(_partitioner);
            _hintEngine = new MemoryStorageEngine(_partitioner);
            _files.Clear();
            Incarnation++;
            _wipedAtMs.Add(_cluster.Network.Clock.ElapsedMs);
        }

        Start();
    }

    public void Pause(long untilMs) => Process.Pause(untilMs);

    public void Resume() => Process.Resume();

    /// <summary>A client request arriving at this node: runs now, after the pause, or never if the node is down.</summary>
    public bool Submit(Action request)
    {
        if (!IsUp)
        {
            return false;
        }

        Process.Run(Process.Epoch, request);
        return true;
    }

    /// <summary>The typed set <paramref name="key"/> as this node's engine holds it; readable while the node is down.</summary>
    /// <summary>This replica's value of the counter <paramref name="key"/>.</summary>
    public long CounterValue(string key) =>
        SimulatedCounterCommand.ValueOf(_engine, Encoding.UTF8.GetBytes(key), Process.Clock.GetUtcNow().ToUnixTimeMilliseconds());

    public TypedSetSnapshot TypedSet(string key) => TypedSetSnapshot.Read(_engine, key, Process.Clock.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>This replica's stored sorted set or list <paramref name="key"/> (members by name, list positions in hex).</summary>
    public CollectionSnapshot Collection(string key, bool namesAreText) => CollectionSnapshot.Read(_engine, key, namesAreText, Process.Clock.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>
    /// Whether this replica's score index entries of <paramref name="key"/> are exactly those its present members'
    /// elements imply (docs/DATA-TYPES.md, "The score index"); null when they are, else what differs.
    /// </summary>
    public string? ScoreIndexMismatch(string key)
    {
        byte[] name = Encoding.UTF8.GetBytes(key);
        var implied = new SortedSet<string>(StringComparer.Ordinal);
        foreach ((byte[] member, ElementState state) in PresentElements.Of(_engine, name))
        {
            implied.Add(Convert.ToHexString(ScoreIndex.Entry(ScoreIndex.ScoreOf(state), member)));
        }

        var stored = new List<string>();
        byte[]? bound = null;
        ElementPage page;
        do
        {
            page = _engine.ScanIndex(name, bound, 1024, backward: false);
            stored.AddRange(page.Elements.Select(e => Convert.ToHexString(e.Name)));
            bound = page.Elements.Count > 0 ? page.Elements[^1].Name : bound;
        }
        while (page.HasMore);

        return implied.SequenceEqual(stored) ? null : $"{implied.Count} entries implied by the elements, {stored.Count} stored, {implied.Except(stored).Count()} missing";
    }

    /// <summary>The key's primaries under the ring this node holds now (reachability ignored).</summary>
    public IReadOnlyList<NodeId> PrimariesOf(string key)
    {
        PartitionMap map = _runtime?.Membership.Map ?? throw new InvalidOperationException($"{Id} has no ring");
        return PreferenceListBuilder.PrimariesOf(map, _partitioner.PartitionOf(Encoding.UTF8.GetBytes(key)), Descriptor.Datacenter, _options.ReplicationFactor);
    }

    /// <summary>The members of the ring this node holds as current (empty without one).</summary>
    public IReadOnlyList<NodeId> RingOwners() =>
        _runtime?.Membership.State.Ring?.Current.Members.Select(m => m.Id).ToList() ?? [];

    /// <summary>True when this node is up, has a ring, and its failure detector sees every other live member up.</summary>
    public bool SeesEveryoneUp()
    {
        if (_runtime is not { } runtime || runtime.Membership.State.Ring is null)
        {
            return false;
        }

        foreach (MemberRecord member in runtime.Membership.State.Members.Values)
        {
            if (member.Status != MemberStatus.Removed && !runtime.Membership.IsReachable(member.Id))
            {
                return false;
            }
        }

        return true;
    }

    public string Describe()
    {
        if (_runtime is not { } runtime)
        {
            return $"{Id} down inc={Incarnation} keys={_engine.KeyCount}";
        }

        ClusterState state = runtime.Membership.State;
        return $"{Id} up inc={Incarnation} keys={_engine.KeyCount} hints={HintCount} skew={ClockSkewMs} ring=v{state.RingVersion}{(state.Ring?.Pending is null ? "" : " plan pending")}"
            + $"{(runtime.Membership.IsWarming ? " warming" : "")} view=[{string.Join(",", runtime.Detector.Snapshot().Select(p => $"{p.Peer}:{p.Health}"))}]"
            + $" members=[{string.Join(",", state.Members.Values.Select(m => $"{m.Id}:{m.Status}#{m.Incarnation}"))}] owners=[{string.Join(",", state.Ring?.Current.Members.Select(m => m.Id.Value) ?? [])}]";
    }

    /// <summary>
    /// Runs <paramref name="request"/> as an event of this node's process, so every await in it continues there (called
    /// from outside, its continuations would go to whatever context the caller has, and race the scheduler).
    /// </summary>
    private void InProcess(Action request)
    {
        if (SynchronizationContext.Current == Process)
        {
            request();
        }
        else
        {
            Process.Run(Process.Epoch, request);
        }
    }

    /// <summary>Serves one peer request arriving from the network, as the peer listener does: pings here, the rest through the router.</summary>
    internal void Serve(PeerMessageType type, ulong requestId, byte[] payload, PeerIdentity from, Action<PeerMessageType, byte[]> reply)
    {
        if (_dispatch is not { } dispatch)
        {
            return;
        }

        if (type == PeerMessageType.Ping)
        {
            var writer = new System.Buffers.ArrayBufferWriter<byte>();
            var pong = new Pong(Ping.Read(payload).Sequence);
            pong.Write(writer);
            reply(pong.Type, writer.WrittenSpan.ToArray());
            return;
        }

        dispatch.Serve(new PeerIncomingRequest(type, requestId, payload, from), reply);
    }

    /// <summary>Tells the ledger of every object a replica store writes: the first store of a value reveals the dot its coordinator gave it.</summary>
    private sealed class LedgerObserver(WriteLedger ledger) : IReplicaWriteListener
    {
        public void OnWritten(byte[] key, byte[]? previousEncoded, byte[] writtenEncoded) =>
            ledger.ObserveStored(Encoding.UTF8.GetString(key), VersionedObject.Decode(writtenEncoded));

        public void OnTypedKeyWritten(byte[] key, byte[]? previousRecord, byte[]? writtenRecord)
        {
            // Typed keys' writes are not in the string ledger (TypedSetChecker reads the stores themselves).
        }

        public void OnRemoved(byte[] key, byte[] previousEncoded)
        {
        }
    }
}
