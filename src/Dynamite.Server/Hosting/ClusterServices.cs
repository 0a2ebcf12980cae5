using System.Globalization;
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
using Dynamite.Core.Ring;
using Dynamite.Server.Configuration;
using Dynamite.Storage;
using Dynamite.Storage.Memory;
using Dynamite.Storage.Sqlite;
using Microsoft.Extensions.Logging;

namespace Dynamite.Server.Hosting;

/// <summary>
/// A cluster node in the server: the runtime (<see cref="ClusterNode"/>) over the node's engine, a second engine for
/// hints, state files in the data directory and TCP peer connections, behind the peer listener; plus the views the
/// admin API and INFO read. Started after the engines are open and stopped before they are flushed.
/// </summary>
public sealed class ClusterServices : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly IStorageEngine _hintEngine;
    private readonly IPEndPoint _peerEndpoint;

    private ClusterServices(NodeConfiguration configuration, IStorageEngine engine, TimeProvider clock, ILoggerFactory loggers)
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
            : new SqliteStorageEngine(Path.Combine(dataDirectory, "hints"), partitioner, configuration.Fsync);

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
        var options = new ClusterNodeOptions
        {
            Self = self,
            AdvertisedAddress = configuration.PeerListen,
            Seeds = seeds,
            PartitionBits = configuration.PartitionBits,
            ReplicationFactor = configuration.ReplicationFactor,
            ReadQuorum = configuration.ReadQuorum,
            WriteQuorum = configuration.WriteQuorum,
            HintedHandoff = configuration.HintedHandoff,
            ReadRepair = configuration.ReadRepair,
            ReadFanout = configuration.ReadFanout,
            RequestTimeout = TimeSpan.FromMilliseconds(configuration.RequestTimeoutMs),
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
            loggers);
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

    /// <summary>Composes the parts; nothing listens or connects until <see cref="Start"/>.</summary>
    public static ClusterServices Create(NodeConfiguration configuration, IStorageEngine engine, TimeProvider clock, ILoggerFactory loggers) =>
        new(configuration, engine, clock, loggers);

    public void Start()
    {
        Listener.Start(_peerEndpoint);
        Node.Start();
        _logger.LogInformation(
            "Cluster {Cluster}: peer protocol on {Peer}, seeds {Seeds}, N={N} R={R} W={W}, hinted handoff {Handoff}, read repair {Repair}",
            Configuration.ClusterName, _peerEndpoint, string.Join(",", Configuration.Seeds), Configuration.ReplicationFactor,
            Configuration.ReadQuorum, Configuration.WriteQuorum, Configuration.HintedHandoff ? "on" : "off", Configuration.ReadRepair ? "on" : "off");
    }

    /// <summary>Joins the cluster of the node at <paramref name="seed"/> (the admin verb).</summary>
    public Task<ClusterState> JoinAsync(IPEndPoint seed, CancellationToken cancellationToken) => Node.Seeding.JoinAsync(seed.ToString(), cancellationToken);

    /// <summary>The INFO "cluster" section.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> InfoLines()
    {
        var lines = new List<KeyValuePair<string, string>>
        {
            new("cluster_enabled", "1"),
            new("cluster_name", Configuration.ClusterName),
            new("node_id", Configuration.NodeId),
            new("datacenter", Configuration.Datacenter),
            new("rack", Configuration.Rack),
            new("cluster_state", Membership.Map is null ? "waiting" : Membership.IsWarming ? "warming" : "ok"),
            new("cluster_members", Membership.State.Members.Values.Count(m => m.Status != MemberStatus.Removed).ToString(CultureInfo.InvariantCulture)),
            new("ring_version", Membership.State.RingVersion.ToString(CultureInfo.InvariantCulture)),
            new("cluster_state_digest", Membership.State.Digest.ToString("x16", CultureInfo.InvariantCulture)),
            new("plan_pending", Membership.PendingMap is null ? "0" : "1"),
            new("handoff_phase", PartitionHandoff.Status.Phase.ToString().ToLowerInvariant()),
            new("handoff_partitions_pending", PartitionHandoff.Status.Pending.ToString(CultureInfo.InvariantCulture)),
            new("handoff_keys_copied", PartitionHandoff.KeysCopied.ToString(CultureInfo.InvariantCulture)),
            new("replication_n", Configuration.ReplicationFactor.ToString(CultureInfo.InvariantCulture)),
            new("read_quorum", Configuration.ReadQuorum.ToString(CultureInfo.InvariantCulture)),
            new("write_quorum", Configuration.WriteQuorum.ToString(CultureInfo.InvariantCulture)),
            new("hinted_handoff", Configuration.HintedHandoff ? "on" : "off"),
            new("read_repair", Configuration.ReadRepair ? "on" : "off"),
            new("read_fanout", Configuration.ReadFanout.ToString().ToLowerInvariant()),
            new("hints_pending", Hints.Count.ToString(CultureInfo.InvariantCulture)),
            new("hints_stored", Coordinator.HintsStored.ToString(CultureInfo.InvariantCulture)),
            new("speculative_reads", Coordinator.SpeculativeReads.ToString(CultureInfo.InvariantCulture)),
            new("hints_replayed", Handoff.Replayed.ToString(CultureInfo.InvariantCulture)),
            new("hints_unreadable", Hints.Unreadable.ToString(CultureInfo.InvariantCulture)),
            new("read_repairs", Coordinator.ReadRepairs.ToString(CultureInfo.InvariantCulture)),
            new("replica_writes_in_flight", Coordinator.ReplicaWritesInFlight.ToString(CultureInfo.InvariantCulture)),
            new("replica_write_failures", Coordinator.ReplicaWriteFailures.ToString(CultureInfo.InvariantCulture)),
            new("aae", Configuration.AntiEntropy ? "on" : "off"),
            new("aae_interval_seconds", Configuration.AntiEntropyIntervalSeconds.ToString(CultureInfo.InvariantCulture)),
            new("aae_rounds", AntiEntropy.Rounds.ToString(CultureInfo.InvariantCulture)),
            new("aae_keys_repaired", AntiEntropy.KeysRepaired.ToString(CultureInfo.InvariantCulture)),
            new("aae_bytes_exchanged", AntiEntropy.BytesExchanged.ToString(CultureInfo.InvariantCulture)),
            new("tombstone_grace_seconds", Configuration.TombstoneGraceSeconds.ToString(CultureInfo.InvariantCulture)),
            new("tombstones_collected", AntiEntropy.TombstonesCollected.ToString(CultureInfo.InvariantCulture)),
            new("aae_tree_bytes", Trees.ApproximateBytes.ToString(CultureInfo.InvariantCulture)),
        };
        foreach ((NodeId node, long count) in Hints.CountsByNode())
        {
            lines.Add(new($"hints_pending_for_{node}", count.ToString(CultureInfo.InvariantCulture)));
        }

        foreach (PeerHealthStatus peer in Membership.Detector.Snapshot())
        {
            lines.Add(new(
                $"peer_{peer.Peer}",
                string.Create(CultureInfo.InvariantCulture, $"health={peer.Health.ToString().ToLowerInvariant()},phi={peer.Phi:0.00},address={Membership.AddressOf(peer.Peer)},failures={peer.ConsecutiveFailures}")));
        }

        return lines;
    }

    /// <summary>The admin API's view of the cluster from this node.</summary>
    public object Status()
    {
        IReadOnlyDictionary<NodeId, long> hintsByNode = Hints.CountsByNode();
        ClusterState state = Membership.State;
        RingState? ring = state.Ring;
        HandoffStatus handoff = PartitionHandoff.Status;
        return new
        {
            clusterName = Configuration.ClusterName,
            nodeId = Configuration.NodeId,
            state = Membership.Map is null ? "waiting: " + Membership.NotReadyReason : Membership.IsWarming ? "warming" : "ok",
            n = Configuration.ReplicationFactor,
            r = Configuration.ReadQuorum,
            w = Configuration.WriteQuorum,
            ringVersion = state.RingVersion,
            planPending = ring?.Pending is not null,
            handoff = new
            {
                phase = handoff.Phase.ToString().ToLowerInvariant(),
                planVersion = handoff.PlanVersion,
                partitions = handoff.Partitions,
                copied = handoff.Copied,
                keysCopied = PartitionHandoff.KeysCopied,
                keysPerSecond = PartitionHandoff.KeysPerSecond,
                lastError = handoff.LastError,
            },
            members = state.Members.Values.Select(m => new
            {
                id = m.Id.Value,
                self = m.Id == Membership.Self,
                state = MemberState(m),
                status = m.Status.ToString().ToLowerInvariant(),
                datacenter = m.Node.Datacenter,
                rack = m.Node.Rack,
                address = m.Address,
                partitionsOwned = ring?.Current.CountOwnedBy(m.Id) ?? 0,
                partitionsOwnedAfterPlan = ring?.Pending?.CountOwnedBy(m.Id),
                handoffsPending = HandoffsPending(m.Id, ring),
                hintsPendingHere = hintsByNode.TryGetValue(m.Id, out long pending) ? pending : 0,
            }),
            peers = Membership.Detector.Snapshot().Select(p => new
            {
                id = p.Peer.Value,
                health = p.Health.ToString().ToLowerInvariant(),
                phi = double.IsFinite(p.Phi) ? p.Phi : double.MaxValue,
                lastHeartbeatUnixMs = p.LastHeartbeatUnixMs,
                consecutiveFailures = p.ConsecutiveFailures,
            }),
            hintsPending = hintsByNode.ToDictionary(pair => pair.Key.Value, pair => pair.Value),
            hintsReplayed = Handoff.Replayed,
            readRepairs = Coordinator.ReadRepairs,
            localKeys = Replica.KeyCount,
            antiEntropy = new
            {
                enabled = Configuration.AntiEntropy,
                intervalSeconds = Configuration.AntiEntropyIntervalSeconds,
                rounds = AntiEntropy.Rounds,
                keysRepaired = AntiEntropy.KeysRepaired,
                bytesExchanged = AntiEntropy.BytesExchanged,
                tombstoneGraceSeconds = Configuration.TombstoneGraceSeconds,
                tombstonesCollected = AntiEntropy.TombstonesCollected,
                treeBytes = Trees.ApproximateBytes,
                partitions = AntiEntropy.Partitions.OrderBy(p => p.Key).Select(p => new
                {
                    partition = p.Key,
                    lastExchangeUnixMs = p.Value.LastExchangeUnixMs,
                    lastPeer = p.Value.LastPeer,
                    lastKeysRepaired = p.Value.LastKeysRepaired,
                    totalKeysRepaired = p.Value.TotalKeysRepaired,
                }),
            },
        };
    }

    /// <summary>
    /// A member's state as this node sees it: warming (this node, copying after a wipe), down (its failure detector
    /// says so), else its gossiped status (joining, up, leaving, removed).
    /// </summary>
    private string MemberState(MemberRecord member)
    {
        if (member.Id == Membership.Self)
        {
            return Membership.IsWarming ? "warming" : member.Status.ToString().ToLowerInvariant();
        }

        return member.Status != MemberStatus.Removed && !Membership.IsReachable(member.Id) ? "down" : member.Status.ToString().ToLowerInvariant();
    }

    /// <summary>Partitions a member still has to copy: this node's own count from its handoff, others' from the plan and their ready reports.</summary>
    private int HandoffsPending(NodeId node, RingState? ring)
    {
        if (node == Membership.Self)
        {
            return PartitionHandoff.Status.Pending;
        }

        return ring?.Pending is null || ring.Ready.Contains(node) ? 0 : HandoffPlan.GainedBy(ring.Current, ring.Pending, node, Configuration.ReplicationFactor).Count;
    }

    /// <summary>The admin API's ring: for every partition, its owner and its preference list in this datacenter.</summary>
    public object Ring()
    {
        PartitionMap? map = Membership.Map;
        if (map is null)
        {
            return new { state = "waiting: " + Membership.NotReadyReason, partitions = Array.Empty<object>() };
        }

        var partitions = new List<object>(map.PartitionCount);
        for (int p = 0; p < map.PartitionCount; p++)
        {
            var partition = new PartitionId(p);
            PreferenceList list = PreferenceListBuilder.Build(map, partition, Configuration.Datacenter, Configuration.ReplicationFactor, Membership.IsReachable);
            partitions.Add(new
            {
                partition = p,
                owner = map.OwnerOf(partition).Value,
                primaries = list.Primaries.Select(n => n.Value),
                unreachable = list.UnreachablePrimaries.Select(n => n.Value),
                fallbacks = list.Entries.Where(e => !e.IsPrimary).Select(e => new { node = e.Node.Value, hintFor = e.HintFor?.Value }),
            });
        }

        return new { state = "ok", partitionBits = map.PartitionBits, datacenter = Configuration.Datacenter, n = Configuration.ReplicationFactor, partitions };
    }

    public async ValueTask DisposeAsync()
    {
        await Node.DisposeAsync();
        await Listener.DisposeAsync();
        await _hintEngine.FlushAsync();
        await _hintEngine.DisposeAsync();
    }
}
