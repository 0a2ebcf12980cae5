using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Dynamite.Cluster.Membership;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Ring;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// Membership as the configuration states it: this node plus one peer per seed address. A peer's id,
/// datacenter and rack are learned from its handshake and remembered in the data directory, so a restart
/// while a peer is down still knows the whole cluster. The partition map is the core's deterministic claim
/// over that member set, so nodes that know the same members compute the same map; until every seed has
/// been identified the map is null and requests fail with the reason. Gossip replaces this later.
/// Thread-safety: the map and the peer table are replaced atomically; readers never lock.
/// </summary>
public sealed class StaticMembership : IClusterTopology, IAsyncDisposable
{
    private static readonly TimeSpan IdentifyInterval = TimeSpan.FromMilliseconds(500);
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private readonly NodeDescriptor _self;
    private readonly int _partitionBits;
    private readonly string _stateFile;
    private readonly ILogger _logger;
    private readonly Dictionary<string, PeerClient> _clientsByAddress = [];

    /// <summary>Identified peers by id; written only by the identify loop.</summary>
    private readonly ConcurrentDictionary<NodeId, (string Address, NodeDescriptor Descriptor)> _peers = new();
    private readonly FailureDetectorLoop _detector;
    private readonly CancellationTokenSource _stopping = new();
    private volatile PartitionMap? _map;
    private Task? _identifying;
    private long _pingSequence;
    private long _reachabilityVersion;

    public StaticMembership(
        NodeDescriptor self,
        IReadOnlyList<IPEndPoint> seeds,
        PeerTransportOptions transport,
        int partitionBits,
        string dataDirectory,
        TimeProvider clock,
        ILoggerFactory loggers)
    {
        _self = self;
        _partitionBits = partitionBits;
        _stateFile = Path.Combine(dataDirectory, "cluster-members.json");
        _logger = loggers.CreateLogger<StaticMembership>();
        foreach (IPEndPoint seed in seeds)
        {
            _clientsByAddress[seed.ToString()] = new PeerClient(seed, transport, clock, loggers.CreateLogger<PeerClient>());
        }

        _detector = new FailureDetectorLoop(new PeerHealthTracker(), PingAsync, clock, logger: loggers.CreateLogger<FailureDetectorLoop>());
        _detector.PeerHealthChanged += (_, _, _) => Interlocked.Increment(ref _reachabilityVersion);
        LoadRememberedMembers();
        RebuildMap();
    }

    /// <summary>The failure detector's view of every identified peer.</summary>
    public FailureDetectorLoop Detector => _detector;

    public PartitionMap? Map => _map;

    public string NotReadyReason
    {
        get
        {
            var unknown = new List<string>();
            foreach ((string address, PeerClient client) in _clientsByAddress)
            {
                if (client.RemoteIdentity is null && !IsRemembered(address))
                {
                    unknown.Add(address);
                }
            }

            return unknown.Count == 0 ? "ready" : "waiting to learn the identity of seed(s) " + string.Join(", ", unknown);
        }
    }

    /// <summary>Every member this node knows (itself included).</summary>
    public IReadOnlyList<NodeDescriptor> Members
    {
        get
        {
            var members = new List<NodeDescriptor> { _self };
            foreach ((_, NodeDescriptor descriptor) in _peers.Values)
            {
                members.Add(descriptor);
            }

            return members;
        }
    }

    /// <summary>The seed address a peer was reached at.</summary>
    public string? AddressOf(NodeId node) => _peers.TryGetValue(node, out var peer) ? peer.Address : null;

    public IPeerClient? ClientFor(NodeId node) =>
        _peers.TryGetValue(node, out var peer) && _clientsByAddress.TryGetValue(peer.Address, out PeerClient? client) ? client : null;

    public bool IsReachable(NodeId node) => node == _self.Id || _detector.IsReachable(node);

    public long ReachabilityVersion => Interlocked.Read(ref _reachabilityVersion);

    /// <summary>Starts identifying the seeds and probing the peers.</summary>
    public void Start()
    {
        _identifying = IdentifyLoopAsync(_stopping.Token);
        _detector.Start();
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_identifying is not null)
        {
            try
            {
                await _identifying;
            }
            catch (OperationCanceledException)
            {
            }
        }

        await _detector.DisposeAsync();
        foreach (PeerClient client in _clientsByAddress.Values)
        {
            await client.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task IdentifyLoopAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            foreach ((string address, PeerClient client) in _clientsByAddress)
            {
                if (client.RemoteIdentity is null)
                {
                    try
                    {
                        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                        attempt.CancelAfter(TimeSpan.FromSeconds(3));
                        await client.ConnectAsync(attempt.Token);
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException || !stopping.IsCancellationRequested)
                    {
                        _logger.LogDebug("Seed {Address} not reachable yet: {Reason}", address, exception.Message);
                    }
                }

                if (client.RemoteIdentity is { } identity)
                {
                    Learn(address, identity);
                }
            }

            await Task.Delay(IdentifyInterval, stopping);
        }
    }

    private void Learn(string address, PeerIdentity identity)
    {
        var id = new NodeId(identity.NodeId);
        var descriptor = new NodeDescriptor(id, identity.Datacenter, identity.Rack);
        if (id == _self.Id)
        {
            _logger.LogWarning("Seed {Address} is this node itself; ignoring it", address);
            return;
        }

        if (_peers.TryGetValue(id, out var known) && known.Address == address && known.Descriptor == descriptor)
        {
            return;
        }

        _peers[id] = (address, descriptor);
        _detector.AddPeer(id);
        Interlocked.Increment(ref _reachabilityVersion);
        _logger.LogInformation("Peer {Address} is {Node} ({Datacenter}/{Rack})", address, id, identity.Datacenter, identity.Rack);
        Remember();
        RebuildMap();
    }

    private void RebuildMap()
    {
        foreach (string address in _clientsByAddress.Keys)
        {
            if (!IsRemembered(address))
            {
                _map = null;
                return;
            }
        }

        PartitionMap map = PartitionClaim.Initial(Members, _partitionBits);
        _map = map;
        _logger.LogInformation("Partition map over {Count} members: {Members}", map.Members.Length, string.Join(", ", map.Members));
    }

    private bool IsRemembered(string address)
    {
        foreach ((string known, _) in _peers.Values)
        {
            if (known == address)
            {
                return true;
            }
        }

        return false;
    }

    private async Task<bool> PingAsync(NodeId node, CancellationToken cancellationToken)
    {
        IPeerClient client = ClientFor(node) ?? throw new InvalidOperationException($"unknown peer {node}");
        ulong sequence = (ulong)Interlocked.Increment(ref _pingSequence);
        PeerResponse response = await client.SendAsync(new Ping(sequence), _detector.PingTimeout, cancellationToken);
        return response.Read<Pong>().Sequence == sequence;
    }

    private void LoadRememberedMembers()
    {
        if (!File.Exists(_stateFile))
        {
            return;
        }

        try
        {
            RememberedMember[] members = JsonSerializer.Deserialize<RememberedMember[]>(File.ReadAllText(_stateFile)) ?? [];
            foreach (RememberedMember member in members)
            {
                if (_clientsByAddress.ContainsKey(member.Address))
                {
                    var id = new NodeId(member.Id);
                    _peers[id] = (member.Address, new NodeDescriptor(id, member.Datacenter, member.Rack));
                    _detector.AddPeer(id);
                }
            }
        }
        catch (Exception exception) when (exception is JsonException or IOException or ArgumentException)
        {
            _logger.LogWarning("Ignoring unreadable {File}: {Reason}; peers will be identified again", _stateFile, exception.Message);
        }
    }

    private void Remember()
    {
        var members = new List<RememberedMember>();
        foreach ((string address, NodeDescriptor descriptor) in _peers.Values)
        {
            members.Add(new RememberedMember(address, descriptor.Id.Value, descriptor.Datacenter, descriptor.Rack));
        }

        // Write then rename, so a crash never leaves a half-written file.
        string temporary = _stateFile + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(members, JsonOptions));
        File.Move(temporary, _stateFile, overwrite: true);
    }

    private sealed record RememberedMember(string Address, string Id, string Datacenter, string Rack);
}
