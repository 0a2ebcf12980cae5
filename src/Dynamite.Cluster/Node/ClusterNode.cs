using Dynamite.Cluster.AntiEntropy;
using Dynamite.Cluster.Coordination;
using Dynamite.Cluster.Membership;
using Dynamite.Cluster.Metrics;
using Dynamite.Cluster.PubSub;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.State;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Storage;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Node;

/// <summary>
/// One cluster node's runtime, composed: the replica store and its Merkle trees over the node's engine, the hint
/// store over a second engine, the peer connections, the failure detector, gossip membership with its seed joiner
/// and gossip loop, the coordinator and the key-value store the front ends use, hint replay, anti-entropy with
/// tombstone collection, partition handoff and warm-up, and the router that hands each peer request to its
/// service. The server composes a node over TCP and files (the Server's ClusterServices); the simulation composes
/// the very same node over a simulated network, simulated time and memory, so whatever it checks is what runs.
/// What differs is passed in: the engines, the <see cref="IPeerConnector"/>, the state files, the clock and the
/// randomness.
/// </summary>
public sealed class ClusterNode : IAsyncDisposable
{
    private readonly ClusterNodeOptions _options;
    private readonly PeerConnectionPool _peers;
    private int _disposed;

    /// <param name="options">The node's configuration.</param>
    /// <param name="engine">The node's data.</param>
    /// <param name="hintEngine">Where hints are kept (a second engine, so hints never mix with data).</param>
    /// <param name="connector">Makes the clients for peer addresses.</param>
    /// <param name="files">The node's small state files.</param>
    /// <param name="clock">Every timer and timestamp of the node.</param>
    /// <param name="random">Every random choice of the node (gossip peers, the data's incarnation).</param>
    /// <param name="loggers">Logs.</param>
    /// <param name="metrics">Where the node's cluster metrics are recorded; null: not recorded.</param>
    /// <param name="writeObserver">Also told of every replica write (besides the Merkle trees); the simulation's observer.</param>
    public ClusterNode(
        ClusterNodeOptions options,
        IStorageEngine engine,
        IStorageEngine hintEngine,
        IPeerConnector connector,
        INodeStateStore files,
        TimeProvider clock,
        Random random,
        ILoggerFactory loggers,
        ClusterMetrics? metrics = null,
        IReplicaWriteListener? writeObserver = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(hintEngine);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(loggers);
        _options = options;
        NodeDescriptor self = options.Self;
        var partitioner = new KeyPartitioner(options.Cluster.PartitionBits);
        Engine = engine;
        Trees = new AntiEntropyTrees(partitioner);
        Trees.RebuildAll(engine, clock.GetUtcNow().ToUnixTimeMilliseconds());
        var writeGenerations = new PartitionWriteGenerations(partitioner);
        Replica = new ReplicaStore(
            engine, clock, writeObserver is null ? new ReplicaWriteListeners(Trees, writeGenerations) : new ReplicaWriteListeners(Trees, writeGenerations, writeObserver));
        Replica.FlushedBeforeUnixMs = ClusterFlush.LoadHorizon(files);
        Hints = new HintStore(hintEngine, clock, metrics);
        _peers = new PeerConnectionPool(connector, self.Id);
        Detector = new FailureDetectorLoop(
            new PeerHealthTracker(), (node, ct) => _peers.PingAsync(node, options.PingTimeout, ct), clock, options.PingInterval, options.PingTimeout, loggers.CreateLogger<FailureDetectorLoop>());
        Membership = new GossipMembership(
            self, options.AdvertisedAddress, options.Seeds, options.Cluster.ReplicationFactor, _peers, Detector, files, loggers.CreateLogger<GossipMembership>(), options.VolatileData, options.ClientAddress);
        Seeding = new SeedJoiner(Membership, options.Seeds, _peers, options.Cluster.RequestTimeout, options.Cluster.PartitionBits, clock, loggers.CreateLogger<SeedJoiner>());
        Gossip = new GossipLoop(Membership, _peers, options.Gossip, options.Cluster.RequestTimeout, random, clock, loggers.CreateLogger<GossipLoop>());
        Incarnation = new DataIncarnation(files, random, self.Id, options.VolatileData);
        Coordinator = new ClusterCoordinator(options.Cluster, Membership, Replica, Hints, loggers.CreateLogger<ClusterCoordinator>(), metrics, Incarnation);
        Flush = new ClusterFlush(Replica, Trees, Membership, files, self.Id, options.Cluster.RequestTimeout, clock, loggers.CreateLogger<ClusterFlush>());
        Store = new ClusterKeyValueStore(Coordinator, clock, Flush);
        MessageRelay = new ClusterMessageRelay(Membership, self.Id, options.Cluster.RequestTimeout, loggers.CreateLogger<ClusterMessageRelay>(), metrics);
        Handoff = new HintedHandoff(Hints, Replica, Membership, self, options.Cluster.ReplicationFactor, options.Cluster.RequestTimeout, clock, loggers.CreateLogger<HintedHandoff>()) { Metrics = metrics };
        var collector = new TombstoneCollector(
            Replica, Membership, self, options.Cluster.ReplicationFactor, options.TombstoneGrace, options.Cluster.RequestTimeout, clock, loggers.CreateLogger<TombstoneCollector>())
        {
            Metrics = metrics,
            WriteGenerations = writeGenerations,
        };
        AntiEntropy = new AntiEntropyService(
            Trees, Replica, Membership, self, options.Cluster.ReplicationFactor, options.AntiEntropyInterval, options.Cluster.RequestTimeout, clock, loggers.CreateLogger<AntiEntropyService>(), collector) { Metrics = metrics };
        Release = new PartitionRelease(Membership, Replica, AntiEntropy, self, clock, loggers.CreateLogger<PartitionRelease>(), Incarnation);
        PartitionHandoff = new PartitionHandoff(Membership, AntiEntropy, Release, self, files, options.HandoffKeysPerSecond, clock, loggers.CreateLogger<PartitionHandoff>()) { Metrics = metrics };
        Router = new PeerRequestRouter(
        [
            new GossipRequestHandler(Membership),
            new AntiEntropyRequestHandler(Trees, engine, clock, collector),
            new CoordinatorRequestHandler(Coordinator),
            ForwardedCommands,
            MessageRelay,
            Flush,
            new ReplicaRequestHandler(
                Replica, options.Cluster.HintedHandoff ? Hints : null, partitioner, loggers.CreateLogger<ReplicaRequestHandler>(), () => Membership.ServesLocalReads),
        ]);
        Detector.PeerHealthChanged += (_, _, health) =>
        {
            if (health == PeerHealth.Up)
            {
                Handoff.Wake();
            }
        };
    }

    public IStorageEngine Engine { get; }

    public AntiEntropyTrees Trees { get; }

    public ReplicaStore Replica { get; }

    public HintStore Hints { get; }

    public FailureDetectorLoop Detector { get; }

    public GossipMembership Membership { get; }

    public SeedJoiner Seeding { get; }

    public GossipLoop Gossip { get; }

    public ClusterCoordinator Coordinator { get; }

    /// <summary>FLUSHALL across the cluster, and this node's side of it.</summary>
    public ClusterFlush Flush { get; }

    /// <summary>The key-value store the front ends (RESP commands) use on a cluster node.</summary>
    public ClusterKeyValueStore Store { get; }

    /// <summary>Hint replay.</summary>
    public HintedHandoff Handoff { get; }

    public AntiEntropyService AntiEntropy { get; }

    /// <summary>Copies partitions in when ownership moves here, and warms a wiped node up.</summary>
    public PartitionHandoff PartitionHandoff { get; }

    /// <summary>Hands off and deletes data of partitions this node does not replicate.</summary>
    public PartitionRelease Release { get; }

    /// <summary>The actor this node's dots are issued as, renewed before the node forgets dots it issued.</summary>
    public DataIncarnation Incarnation { get; }

    /// <summary>Every peer request this node serves, by message type: what a listener (or the simulated network) calls.</summary>
    public PeerRequestRouter Router { get; }

    /// <summary>PUBLISH to every member; the host sets its <see cref="ClusterMessageRelay.Sink"/> (its front end's subscribers).</summary>
    public ClusterMessageRelay MessageRelay { get; }

    /// <summary>Client commands other nodes forward here; the host sets its <see cref="ForwardedCommandHandler.Runner"/> (its front end).</summary>
    public ForwardedCommandHandler ForwardedCommands { get; } = new();

    /// <summary>Starts every loop: seeding (while there is no cluster), gossip, failure detection, handoff, hint replay and anti-entropy as configured.</summary>
    public void Start()
    {
        Seeding.Start();
        Gossip.Start();
        Detector.Start();
        PartitionHandoff.Start();
        if (_options.Cluster.HintedHandoff)
        {
            Handoff.Start();
        }

        if (_options.AntiEntropy)
        {
            AntiEntropy.Start();
        }
    }

    /// <summary>Stops every loop (each within its bounded stop) and closes the peer connections; the engines are the caller's.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await PartitionHandoff.DisposeAsync();
        await AntiEntropy.DisposeAsync();
        await Handoff.DisposeAsync();
        await Gossip.DisposeAsync();
        await Seeding.DisposeAsync();
        await Detector.DisposeAsync();
        await _peers.DisposeAsync();
        Coordinator.Dispose();
    }
}
