using System.Net;
using System.Security.Cryptography;
using Dynamite.Cluster.AntiEntropy;
using Dynamite.Cluster.Coordination;
using Dynamite.Cluster.Membership;
using Dynamite.Cluster.Node;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.State;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Gossip;
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
/// A cluster node in the server: the runtime (<see cref="ClusterNode"/>) over the node's engine, a second engine for
/// hints, state files in the data directory and TCP peer connections, behind the peer listener; plus the views the
/// admin API and INFO read. Started after the engines are open and stopped before they are flushed. Only
/// composition: what operators see of it is <see cref="Admin.ClusterStatusView"/>, its numbers the node's <see cref="NodeMetrics"/>.
/// </summary>
public sealed class ClusterServices : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly IStorageEngine _hintEngine;
    private int _disposed;
    private readonly IPEndPoint _peerEndpoint;

    /// <summary>The node's certificates for peer mTLS (<c>--peer-tls</c>); null when peers prove the cluster secret only.</summary>
    private readonly Security.PeerCertificates? _peerCertificates;

    private ClusterServices(NodeConfiguration configuration, IStorageEngine engine, TimeProvider clock, ILoggerFactory loggers, NodeMetrics metrics)
    {
        _logger = loggers.CreateLogger("Dynamite.Cluster");
        Configuration = configuration;
        _peerEndpoint = EndpointParser.Parse(configuration.PeerListen, "--peer-listen");
        var seeds = new List<string>();
        foreach (string seed in configuration.Seeds)
        {
            seeds.Add(EndpointParser.Parse(seed, "--seeds").ToString());
        }

        var self = new NodeDescriptor(new NodeId(configuration.NodeId), configuration.Datacenter, configuration.Rack);
        string dataDirectory = Path.GetFullPath(configuration.ResolvedDataDir);
        Directory.CreateDirectory(dataDirectory);
        var partitioner = new KeyPartitioner(configuration.PartitionBits);
        bool volatileData = configuration.Engine == "memory";
        _hintEngine = volatileData
            ? new MemoryStorageEngine(partitioner)
            : new SqliteStorageEngine(Path.Combine(dataDirectory, "hints"), partitioner, configuration.Fsync, metrics.ForHintEngine("sqlite"), clock);

        if (configuration.ClusterSecret is null && !configuration.PeerTls)
        {
            _logger.LogWarning("No --cluster-secret: any process that knows the cluster name may join this cluster's peer protocol");
        }

        if (configuration.PeerTls)
        {
            _peerCertificates = new Security.PeerCertificates(
                new ReloadingCertificates(configuration.TlsCertFile!, configuration.TlsKeyFile!, configuration.TlsCaCertFile, clock, loggers.CreateLogger("Dynamite.PeerTls")),
                configuration.ClusterName, configuration.NodeId, clock);
        }

        var transport = new PeerTransportOptions
        {
            Certificates = _peerCertificates,
            TlsProtocols = configuration.PeerTls ? ClientTlsOptions.ParseProtocols(configuration.TlsProtocols) : System.Security.Authentication.SslProtocols.None,
            ClusterName = configuration.ClusterName,
            // Without a secret the handshake still runs, keyed by the cluster name: it then only tells clusters apart.
            ClusterSecret = configuration.ClusterSecret ?? "dynamite-cluster:" + configuration.ClusterName,
            LocalIdentity = new PeerIdentity(configuration.NodeId, configuration.Datacenter, configuration.Rack, AnnouncedClientAddress(configuration)),
            AdvertisedAddress = configuration.PeerListen,
            DefaultRequestTimeout = TimeSpan.FromMilliseconds(configuration.RequestTimeoutMs),
        };
        var options = new ClusterNodeOptions
        {
            Cluster = new ClusterOptions
            {
                Self = self,
                PartitionBits = configuration.PartitionBits,
                ReplicationFactor = configuration.ReplicationFactor,
                ReadQuorum = configuration.ReadQuorum,
                WriteQuorum = configuration.WriteQuorum,
                HintedHandoff = configuration.HintedHandoff,
                ReadRepair = configuration.ReadRepair,
                ReadFanout = configuration.ReadFanout,
                RequestTimeout = TimeSpan.FromMilliseconds(configuration.RequestTimeoutMs),
            },
            AdvertisedAddress = configuration.PeerListen,
            ClientAddress = AnnouncedClientAddress(configuration),
            Seeds = seeds,
            AntiEntropy = configuration.AntiEntropy,
            AntiEntropyInterval = TimeSpan.FromSeconds(configuration.AntiEntropyIntervalSeconds),
            TombstoneGrace = TimeSpan.FromSeconds(configuration.TombstoneGraceSeconds),
            HandoffKeysPerSecond = configuration.HandoffKeysPerSecond,
            VolatileData = volatileData,
        };
        Node = new ClusterNode(
            options,
            engine,
            _hintEngine,
            new TcpPeerConnector(transport, clock, loggers),
            new FileNodeStateStore(dataDirectory),
            clock,
            new Random(RandomNumberGenerator.GetInt32(int.MaxValue)),
            loggers,
            metrics.Cluster);
        Listener = new PeerListener(transport, Node.Router, clock, loggers.CreateLogger<PeerListener>());
    }

    public NodeConfiguration Configuration { get; }

    /// <summary>The node's runtime.</summary>
    public ClusterNode Node { get; }

    public GossipMembership Membership => Node.Membership;

    /// <summary>Copies partitions in when ownership moves here, and warms a wiped node up.</summary>
    public PartitionHandoff PartitionHandoff => Node.PartitionHandoff;

    public ReplicaStore Replica => Node.Replica;

    public HintStore Hints => Node.Hints;

    public ClusterCoordinator Coordinator => Node.Coordinator;

    public ClusterKeyValueStore Store => Node.Store;

    public HintedHandoff Handoff => Node.Handoff;

    public PeerListener Listener { get; }

    public AntiEntropyTrees Trees => Node.Trees;

    public AntiEntropyService AntiEntropy => Node.AntiEntropy;

    /// <summary>Composes the parts, recording into <paramref name="metrics"/>; nothing listens or connects until <see cref="Start"/>.</summary>
    public static ClusterServices Create(NodeConfiguration configuration, IStorageEngine engine, TimeProvider clock, ILoggerFactory loggers, NodeMetrics metrics) =>
        new(configuration, engine, clock, loggers, metrics);

    public void Start()
    {
        Listener.Start(_peerEndpoint);
        Node.Start();
        _logger.LogInformation(
            "Cluster {Cluster}: peer protocol{Tls} on {Peer}, seeds {Seeds}, N={N} R={R} W={W}, hinted handoff {Handoff}, read repair {Repair}",
            Configuration.ClusterName, Configuration.PeerTls ? " (mutual TLS)" : "", _peerEndpoint, string.Join(",", Configuration.Seeds), Configuration.ReplicationFactor,
            Configuration.ReadQuorum, Configuration.WriteQuorum, Configuration.HintedHandoff ? "on" : "off", Configuration.ReadRepair ? "on" : "off");
    }

    /// <summary>Joins the cluster of the node at <paramref name="seed"/> (the admin verb).</summary>
    public Task<ClusterState> JoinAsync(IPEndPoint seed, CancellationToken cancellationToken) => Node.Seeding.JoinAsync(seed.ToString(), cancellationToken);

    /// <summary>
    /// Stops the node and closes the hint store. Idempotent: the host stops the peer protocol itself before it flushes
    /// the data engine, and the service container disposes this singleton again afterwards, when the hint engine is
    /// already closed (a second flush there threw, and a SIGTERM ended the process with status 1).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Node.DisposeAsync();
        await Listener.DisposeAsync();
        _peerCertificates?.Dispose();
        await _hintEngine.FlushAsync();
        await _hintEngine.DisposeAsync();
    }

    /// <summary>
    /// Where clients reach this node, as CLUSTER SLOTS and NODES announce it: --listen, or, when it listens on every
    /// interface, the --peer-listen host with the --listen port (empty when both are wildcards: the replies then name no
    /// address, as Redis Cluster does for a node it cannot place); with its TLS port (<see cref="Admin.AnnouncedClientAddress"/>).
    /// </summary>
    private static string AnnouncedClientAddress(NodeConfiguration configuration)
    {
        System.Net.IPEndPoint listen = EndpointParser.Parse(configuration.Listen, "--listen");
        // A node whose plain port is off announces its TLS port, as a TLS-only Redis Cluster node does.
        int port = listen.Port == 0 ? configuration.TlsPort : listen.Port;
        if (!IsWildcard(listen.Address))
        {
            return Admin.AnnouncedClientAddress.Format(new System.Net.IPEndPoint(listen.Address, port), configuration.TlsPort);
        }

        System.Net.IPEndPoint peer = EndpointParser.Parse(configuration.PeerListen, "--peer-listen");
        return IsWildcard(peer.Address) ? "" : Admin.AnnouncedClientAddress.Format(new System.Net.IPEndPoint(peer.Address, port), configuration.TlsPort);
    }

    private static bool IsWildcard(System.Net.IPAddress address) =>
        address.Equals(System.Net.IPAddress.Any) || address.Equals(System.Net.IPAddress.IPv6Any);
}
