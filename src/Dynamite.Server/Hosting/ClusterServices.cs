using System.Net;
using System.Security.Cryptography;
using Dynamite.Cluster.AntiEntropy;
using Dynamite.Cluster.Coordination;
using Dynamite.Cluster.Membership;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Server.Configuration;
using Dynamite.Server.Metrics;
using Dynamite.Storage;
using Dynamite.Storage.Memory;
using Dynamite.Storage.Sqlite;
using Microsoft.Extensions.Logging;

namespace Dynamite.Server.Hosting;

/// <summary>
/// A cluster node's parts, composed from the configuration: the replica store over the node's engine, a
/// second engine for hints, gossip membership with the failure detector, partition handoff and warm-up, the
/// peer listener serving gossip and replica requests, the coordinator behind the RESP store, and hint replay. Started after the engines are open and
/// stopped before they are flushed, in the reverse order of their dependencies. Only composition: what operators see of
/// it is <see cref="Admin.ClusterStatusView"/>, its numbers the node's <see cref="NodeMetrics"/>.
/// </summary>
public sealed class ClusterServices : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly IStorageEngine _hintEngine;
    private readonly IPEndPoint _peerEndpoint;

    private ClusterServices(NodeConfiguration configuration, IStorageEngine engine, TimeProvider clock, ILoggerFactory loggers, NodeMetrics metrics)
    {
        _logger = loggers.CreateLogger("Dynamite.Cluster");
        Configuration = configuration;
        _peerEndpoint = EndpointParser.Parse(configuration.PeerListen, "--peer-listen");
        var seeds = new List<IPEndPoint>();
        foreach (string seed in configuration.Seeds)
        {
            seeds.Add(EndpointParser.Parse(seed, "--seeds"));
        }

        var self = new NodeDescriptor(new NodeId(configuration.NodeId), configuration.Datacenter, configuration.Rack);
        string dataDirectory = Path.GetFullPath(configuration.ResolvedDataDir);
        Directory.CreateDirectory(dataDirectory);
        var partitioner = new KeyPartitioner(configuration.PartitionBits);
        _hintEngine = configuration.Engine == "memory"
            ? new MemoryStorageEngine(partitioner, metrics.ForHintEngine("memory"))
            : new SqliteStorageEngine(Path.Combine(dataDirectory, "hints"), partitioner, configuration.Fsync, metrics.ForHintEngine("sqlite"));

        if (configuration.ClusterSecret is null)
        {
            _logger.LogWarning("No --cluster-secret: any process that knows the cluster name may join this cluster's peer protocol");
        }

        var transport = new PeerTransportOptions
        {
            ClusterName = configuration.ClusterName,
            // Without a secret the handshake still runs, keyed by the cluster name: it then only tells clusters apart.
            ClusterSecret = configuration.ClusterSecret ?? "dynamite-cluster:" + configuration.ClusterName,
            LocalIdentity = new PeerIdentity(configuration.NodeId, configuration.Datacenter, configuration.Rack),
            AdvertisedAddress = configuration.PeerListen,
            DefaultRequestTimeout = TimeSpan.FromMilliseconds(configuration.RequestTimeoutMs),
        };
        Membership = new GossipMembership(
            self, seeds, transport, configuration.PartitionBits, configuration.ReplicationFactor, dataDirectory, clock, loggers, volatileData: configuration.Engine == "memory");
        Trees = new AntiEntropyTrees(partitioner);
        Trees.RebuildAll(engine, clock.GetUtcNow().ToUnixTimeMilliseconds());
        Replica = new ReplicaStore(engine, clock, Trees);
        Hints = new HintStore(_hintEngine, clock, metrics.Cluster);
        var options = new ClusterOptions
        {
            Self = self,
            Actor = new NodeId($"{configuration.NodeId}.{Incarnation(dataDirectory, configuration.Engine == "memory")}"),
            PartitionBits = configuration.PartitionBits,
            ReplicationFactor = configuration.ReplicationFactor,
            ReadQuorum = configuration.ReadQuorum,
            WriteQuorum = configuration.WriteQuorum,
            HintedHandoff = configuration.HintedHandoff,
            ReadRepair = configuration.ReadRepair,
            ReadFanout = configuration.ReadFanout,
            RequestTimeout = TimeSpan.FromMilliseconds(configuration.RequestTimeoutMs),
        };
        Coordinator = new ClusterCoordinator(options, Membership, Replica, Hints, loggers.CreateLogger<ClusterCoordinator>(), metrics.Cluster);
        Store = new ClusterKeyValueStore(Coordinator, clock);
        Handoff = new HintedHandoff(Hints, Membership, options.RequestTimeout, loggers.CreateLogger<HintedHandoff>()) { Metrics = metrics.Cluster };
        var collector = new TombstoneCollector(
            Replica, Membership, self, configuration.ReplicationFactor, TimeSpan.FromSeconds(configuration.TombstoneGraceSeconds),
            options.RequestTimeout, clock, loggers.CreateLogger<TombstoneCollector>()) { Metrics = metrics.Cluster };
        AntiEntropy = new AntiEntropyService(
            Trees, Replica, Membership, self, configuration.ReplicationFactor, TimeSpan.FromSeconds(configuration.AntiEntropyIntervalSeconds),
            options.RequestTimeout, clock, loggers.CreateLogger<AntiEntropyService>(), collector) { Metrics = metrics.Cluster };
        PartitionHandoff = new PartitionHandoff(
            Membership, AntiEntropy, self, dataDirectory, configuration.HandoffKeysPerSecond, clock, loggers.CreateLogger<PartitionHandoff>()) { Metrics = metrics.Cluster };
        Listener = new PeerListener(
            transport,
            new GossipRequestHandler(Membership, new AntiEntropyRequestHandler(
                Trees,
                engine,
                clock,
                collector,
                new CoordinatorRequestHandler(
                    Coordinator,
                    new ReplicaRequestHandler(
                        Replica, configuration.HintedHandoff ? Hints : null, partitioner, loggers.CreateLogger<ReplicaRequestHandler>(), () => Membership.ServesLocalReads)))),
            clock,
            loggers.CreateLogger<PeerListener>());
        Membership.Detector.PeerHealthChanged += (node, _, health) =>
        {
            if (health == PeerHealth.Up)
            {
                Handoff.Wake();
            }
        };
    }

    public NodeConfiguration Configuration { get; }

    public GossipMembership Membership { get; }

    /// <summary>Copies partitions in when ownership moves here, and warms a wiped node up.</summary>
    public PartitionHandoff PartitionHandoff { get; }

    public ReplicaStore Replica { get; }

    public HintStore Hints { get; }

    public ClusterCoordinator Coordinator { get; }

    public ClusterKeyValueStore Store { get; }

    public HintedHandoff Handoff { get; }

    public PeerListener Listener { get; }

    public AntiEntropyTrees Trees { get; }

    public AntiEntropyService AntiEntropy { get; }

    /// <summary>Composes the parts, recording into <paramref name="metrics"/>; nothing listens or connects until <see cref="Start"/>.</summary>
    public static ClusterServices Create(NodeConfiguration configuration, IStorageEngine engine, TimeProvider clock, ILoggerFactory loggers, NodeMetrics metrics) =>
        new(configuration, engine, clock, loggers, metrics);

    public void Start()
    {
        Listener.Start(_peerEndpoint);
        Membership.Start();
        PartitionHandoff.Start();
        if (Configuration.HintedHandoff)
        {
            Handoff.Start();
        }

        if (Configuration.AntiEntropy)
        {
            AntiEntropy.Start();
        }

        _logger.LogInformation(
            "Cluster {Cluster}: peer protocol on {Peer}, seeds {Seeds}, N={N} R={R} W={W}, hinted handoff {Handoff}, read repair {Repair}",
            Configuration.ClusterName, _peerEndpoint, string.Join(",", Configuration.Seeds), Configuration.ReplicationFactor,
            Configuration.ReadQuorum, Configuration.WriteQuorum, Configuration.HintedHandoff ? "on" : "off", Configuration.ReadRepair ? "on" : "off");
    }

    public async ValueTask DisposeAsync()
    {
        await PartitionHandoff.DisposeAsync();
        await AntiEntropy.DisposeAsync();
        await Handoff.DisposeAsync();
        await Membership.DisposeAsync();
        await Listener.DisposeAsync();
        Coordinator.Dispose();
        await _hintEngine.FlushAsync();
        await _hintEngine.DisposeAsync();
    }

    /// <summary>
    /// The incarnation of this node's data: made once when the data directory is new (and on every start of
    /// the memory engine, whose data does not survive), so dots issued after a wipe never repeat old ones.
    /// </summary>
    private static string Incarnation(string dataDirectory, bool volatileData)
    {
        string path = Path.Combine(dataDirectory, "incarnation");
        if (!volatileData && File.Exists(path))
        {
            string existing = File.ReadAllText(path).Trim();
            if (existing.Length is > 0 and <= 16)
            {
                return existing;
            }
        }

        string fresh = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        if (!volatileData)
        {
            File.WriteAllText(path, fresh);
        }

        return fresh;
    }
}
