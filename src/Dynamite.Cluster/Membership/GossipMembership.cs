using System.Collections.Concurrent;
using System.Net;
using Dynamite.Cluster.Coordination;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Ring;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Membership;

/// <summary>
/// Membership by gossip (riak_core's ring gossip over the core's <see cref="ClusterState"/> CRDT). This class
/// only moves the pure core's states and messages: <see cref="GossipRound"/> picks peers and answers
/// messages, <see cref="ClusterTransitions"/> makes membership changes, <see cref="Claimant"/> plans ownership.
/// <para>
/// Start-up: a node with a saved state resumes it. A new node asks its seeds for their state: when one has a
/// ring that already names this node, the node was wiped and replaced, so it adopts the ring and warms up
/// before serving reads; when a seed has a ring without it, it asks that seed to admit it (Joining); when no
/// seed has a ring yet and every seed has identified itself, the seeds and this node found the cluster with
/// the deterministic initial claim (every founder computes the same state). A seed list naming only this
/// node founds a cluster of one.
/// </para>
/// <para>
/// Requests are routed by the ring's current map; while a plan is pending, writes also go to the nodes that
/// gain replicas (<see cref="PendingMap"/>), and the map switches only when every gainer reported its copies.
/// Every state change is saved (write, then rename) before it is gossiped. Thread-safety: state changes are
/// serialized by one lock; readers see an immutable state through a volatile field.
/// </para>
/// </summary>
public sealed class GossipMembership : IClusterTopology, IAsyncDisposable
{
    private const string StateFileName = "cluster-state.bin";
    private const string WarmUpMarkerName = "warmup-owed";
    private static readonly TimeSpan SeedInterval = TimeSpan.FromMilliseconds(500);

    private readonly MemberRecord _selfRecord;
    private readonly IReadOnlyList<IPEndPoint> _seeds;
    private readonly PeerTransportOptions _transport;
    private readonly int _partitionBits;
    private readonly int _replicas;
    private readonly string _stateFile;
    private readonly string _warmUpMarker;
    private readonly TimeProvider _clock;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly GossipOptions _options;
    private readonly ConcurrentDictionary<string, PeerClient> _clientsByAddress = new(StringComparer.Ordinal);

    /// <summary>The connection to each live member but this node, rebuilt with every state: one lookup per replica request.</summary>
    private volatile Dictionary<NodeId, PeerClient> _clientsByNode = [];
    private readonly Lock _changing = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly FailureDetectorLoop _detector;
    private readonly Random _random;
    private volatile ClusterState _state;
    private volatile string _notReady = "looking for seeds";
    private Task? _seeding;
    private Task? _gossiping;
    private long _pingSequence;
    private long _reachabilityVersion;
    private long _gossipRounds;
    private volatile bool _foundedOrJoined;
    private int _disposed;

    public GossipMembership(
        NodeDescriptor self,
        IReadOnlyList<IPEndPoint> seeds,
        PeerTransportOptions transport,
        int partitionBits,
        int replicas,
        string dataDirectory,
        TimeProvider clock,
        ILoggerFactory loggers,
        bool volatileData = false,
        GossipOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(transport);
        _selfRecord = new MemberRecord(self, transport.AdvertisedAddress ?? throw new ArgumentException("The transport needs an advertised address.", nameof(transport)), MemberStatus.Up, 0);
        _seeds = seeds;
        _transport = transport;
        _partitionBits = partitionBits;
        _replicas = replicas;
        _stateFile = Path.Combine(dataDirectory, StateFileName);
        _warmUpMarker = Path.Combine(dataDirectory, WarmUpMarkerName);
        _clock = clock;
        _loggers = loggers;
        _logger = loggers.CreateLogger<GossipMembership>();
        _options = options ?? new GossipOptions();
        _random = new Random(HashCode.Combine(self.Id.Value, Environment.ProcessId));
        _detector = new FailureDetectorLoop(new PeerHealthTracker(), PingAsync, clock, logger: loggers.CreateLogger<FailureDetectorLoop>());
        _detector.PeerHealthChanged += (node, previous, health) =>
        {
            Interlocked.Increment(ref _reachabilityVersion);
            if (health == PeerHealth.Down)
            {
                // Gossip it, so a dead claimant stops being the claimant; the node refutes this itself when it is back.
                try
                {
                    Apply(state => state.TryGetMember(node, out _) ? ClusterTransitions.MarkDown(state, node) : state);
                }
                catch (IOException exception)
                {
                    _logger.LogError(exception, "Could not save the cluster state after {Node} went down", node);
                }
            }
        };
        _state = LoadSavedState() ?? ClusterState.Empty;
        HadSavedState = _state.Ring is not null;
        _clientsByNode = ClientsFor(_state);
        // The memory engine lost its data with the process: a member that restarts must warm up like a wiped one.
        NeedsWarmUp = volatileData && _state.TryGetMember(Self, out MemberRecord? saved) && saved!.Status != MemberStatus.Removed;
        if (NeedsWarmUp)
        {
            OweWarmUp();
        }

        // A node that stopped during warm-up still owes it: it serves no reads from its first request on.
        IsWarming = File.Exists(_warmUpMarker);
        TrackPeers(_state);
    }

    /// <summary>Raised after every change of the local state (merge, transition or plan), outside the lock.</summary>
    public event Action<ClusterState>? StateChanged;

    /// <summary>Raised once when this node learns that it left the cluster (its own record is Removed).</summary>
    public event Action? Departed;

    public NodeId Self => _selfRecord.Id;

    public int Replicas => _replicas;

    /// <summary>The state as this node knows it now.</summary>
    public ClusterState State => _state;

    /// <summary>True when the node resumed a saved state; false for a new (or wiped) data directory.</summary>
    public bool HadSavedState { get; }

    /// <summary>
    /// True when this node is a member whose data is gone: it adopted, without a saved state, a ring that already
    /// named it (wiped and started again as its own replacement), or its engine is volatile. It must warm up.
    /// </summary>
    public bool NeedsWarmUp { get; private set; }

    public FailureDetectorLoop Detector => _detector;

    public long GossipRounds => Interlocked.Read(ref _gossipRounds);

    public PartitionMap? Map => _state.Ring?.Current;

    /// <summary>The map the pending plan moves towards; null when no plan is in progress.</summary>
    public PartitionMap? PendingMap => _state.Ring?.Pending;

    public string NotReadyReason => _state.Ring is null ? _notReady : "ready";

    /// <summary>False while this node warms up (or has no cluster yet, so cannot know whether it must): its own copy must not answer reads.</summary>
    public bool ServesLocalReads => !IsWarming && _state.Ring is not null;

    /// <summary>True from the moment this node learns its data is gone until <see cref="CompleteWarmUp"/>; survives restarts.</summary>
    public bool IsWarming { get; private set; }

    /// <summary>The handoff service copied every partition this node replicates: it serves reads again.</summary>
    public void CompleteWarmUp()
    {
        File.Delete(_warmUpMarker);
        IsWarming = false;
    }

    public long ReachabilityVersion => Interlocked.Read(ref _reachabilityVersion);

    public bool IsReachable(NodeId node) => node == Self || _detector.IsReachable(node);

    /// <summary>A connection to a member; null for this node, strangers and removed members (nothing is sent to those).</summary>
    public IPeerClient? ClientFor(NodeId node) => _clientsByNode.TryGetValue(node, out PeerClient? client) ? client : null;

    public string? AddressOf(NodeId node) => _state.TryGetMember(node, out MemberRecord? member) ? member!.Address : null;

    /// <summary>Starts looking for seeds (unless the state was saved), gossiping and probing peers.</summary>
    public void Start()
    {
        if (_state.Ring is null)
        {
            _seeding = SeedLoopAsync(_stopping.Token);
        }

        _gossiping = GossipLoopAsync(_stopping.Token);
        _detector.Start();
    }

    /// <summary>This node asks to leave: its partitions are handed off, then it is Removed and <see cref="Departed"/> fires.</summary>
    public ClusterState Leave() => Apply(state => ClusterTransitions.Leave(RequireRing(state), Self));

    /// <summary>An operator removes a dead node; its partitions are rebuilt from the surviving replicas.</summary>
    public ClusterState Remove(NodeId node) => Apply(state =>
    {
        if (node == Self)
        {
            throw new InvalidOperationException("A node cannot remove itself; use leave.");
        }

        if (!RequireRing(state).TryGetMember(node, out _))
        {
            throw new KeyNotFoundException($"{node} is not a member of this cluster.");
        }

        return ClusterTransitions.Remove(state, node);
    });

    /// <summary>This node holds every partition the plan <paramref name="copiedFor"/> gives it.</summary>
    public ClusterState ReportReady(RingState copiedFor) => Apply(state => ClusterTransitions.ReportReady(state, Self, copiedFor));

    /// <summary>
    /// Joins the cluster <paramref name="seed"/> belongs to (the admin verb). Allowed while this node is alone: no
    /// ring yet, or a ring of one node; its own single-node ring is dropped for the cluster's.
    /// </summary>
    public async Task<ClusterState> JoinAsync(IPEndPoint seed, CancellationToken cancellationToken)
    {
        ClusterState current = _state;
        int others = current.Members.Values.Count(m => m.Id != Self && m.Status != MemberStatus.Removed);
        if (others > 0)
        {
            throw new InvalidOperationException($"{Self} is already a member of a cluster of {others + 1} nodes; leave it first.");
        }

        PeerClient client = ClientForAddress(seed.ToString());
        var record = new MemberRecord(_selfRecord.Node, _selfRecord.Address, MemberStatus.Joining, current.TryGetMember(Self, out MemberRecord? mine) ? mine!.Incarnation + 1 : 0);
        PeerResponse response = await client.SendAsync(new JoinRequest(record), _transport.DefaultRequestTimeout, cancellationToken);
        ClusterState cluster = ClusterState.Read(response.Read<JoinReply>().EncodedState.Span);
        if (cluster.Ring is null)
        {
            throw new InvalidOperationException($"The seed {seed} is not part of a cluster yet.");
        }

        return Replace(cluster, "joined through " + seed);
    }

    /// <summary>Serves the gossip messages (50–53); the listener's handler chain calls it.</summary>
    public IPeerPayload Handle(IPeerPayload message)
    {
        if (message is JoinRequest join && join.Member.Id == Self)
        {
            return ErrorMessage.Create(PeerErrorCode.MalformedPayload, "a node cannot join itself");
        }

        if (message is JoinRequest && _state.Ring is null)
        {
            return ErrorMessage.Create(PeerErrorCode.MalformedPayload, $"{Self} has no cluster yet; try another seed");
        }

        GossipStep step = default!;
        ClusterState after = Apply(state =>
        {
            step = GossipRound.Receive(state, message);
            return step.State;
        });
        if (message is JoinRequest request)
        {
            _logger.LogInformation("Admitted {Node} at {Address} as joining", request.Member.Id, request.Member.Address);
        }

        // A request always gets a reply: the digest acknowledges a message that needs no state back.
        return step.Reply ?? new GossipDigest(after.Digest, after.RingVersion);
    }

    public async ValueTask DisposeAsync()
    {
        // The host disposes the cluster services after stopping them: a second call has nothing left to do.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        foreach (Task? task in new[] { _seeding, _gossiping })
        {
            if (task is not null)
            {
                try
                {
                    await task;
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        await _detector.DisposeAsync();
        foreach (PeerClient client in _clientsByAddress.Values)
        {
            await client.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private static ClusterState RequireRing(ClusterState state) =>
        state.Ring is null ? throw new InvalidOperationException("This node is not part of a cluster yet.") : state;

    /// <summary>Applies a change under the lock, lets the claimant react, saves, and announces. Returns the new state.</summary>
    private ClusterState Apply(Func<ClusterState, ClusterState> change)
    {
        ClusterState before;
        ClusterState after;
        lock (_changing)
        {
            before = _state;
            after = change(before);
            if (after.TryGetMember(Self, out MemberRecord? mine) && mine!.Status == MemberStatus.Down)
            {
                // Some node's failure detector declared this node down, yet here it is: refute (SWIM).
                after = ClusterTransitions.MarkUp(after, Self);
            }

            if (after.Ring is not null && after.Claimant == Self)
            {
                ClaimResult claim = Claimant.Step(after, Self, _replicas);
                if (claim.Changed && claim.Moves > 0)
                {
                    _logger.LogInformation("Claimant: new plan at ring v{Version} moves {Moves} partitions (ideal {Ideal})", claim.State.RingVersion, claim.Moves, claim.IdealMoves);
                }
                else if (claim.Changed && before.Ring?.Pending is not null && claim.State.Ring!.Pending is null)
                {
                    _logger.LogInformation("Claimant: plan complete, ring v{Version} is current", claim.State.RingVersion);
                }

                after = claim.State;
            }

            if (after.Equals(before))
            {
                return before;
            }

            NoticeReplacement(before, after);
            Save(after);
            _clientsByNode = ClientsFor(after);
            _state = after;
        }

        Announce(before, after);
        return after;
    }

    /// <summary>Replaces the whole state (joining another cluster): the only change that is not a merge.</summary>
    private ClusterState Replace(ClusterState cluster, string why)
    {
        ClusterState before;
        _foundedOrJoined = true;
        lock (_changing)
        {
            before = _state;
            Save(cluster);
            _clientsByNode = ClientsFor(cluster);
            _state = cluster;
        }

        _logger.LogInformation("Cluster state replaced ({Why}): {State}", why, cluster);
        Announce(before, cluster);
        return Apply(state => state);
    }

    /// <summary>
    /// A ring that already names this node reaching a node with a new data directory (from a seed or by gossip)
    /// means the node was wiped and started again as its own replacement: it stops serving reads before the
    /// ring is visible. At a cluster's founding a founder may also learn the ring before founding it; it then
    /// warms up from empty peers, which is quick.
    /// </summary>
    private void NoticeReplacement(ClusterState before, ClusterState after)
    {
        if (before.Ring is null && after.Ring is not null && !HadSavedState && !_foundedOrJoined
            && after.TryGetMember(Self, out MemberRecord? adopted) && adopted!.Status != MemberStatus.Removed)
        {
            // The marker is written before the state is saved: a node stopped in between still warms up next time.
            NeedsWarmUp = true;
            OweWarmUp();
            _logger.LogWarning("The cluster already counts {Node} as a member but this data directory is new: warming up from the replicas", Self);
        }
    }

    private void OweWarmUp()
    {
        File.WriteAllText(_warmUpMarker, "this node's data is gone; it copies its partitions before serving reads\n");
        IsWarming = true;
    }

    private void Announce(ClusterState before, ClusterState after)
    {
        // The latest state, not this change's: announcements run outside the lock, and an older one arriving last
        // must not re-add a member that has since been removed.
        TrackPeers(_state);
        Interlocked.Increment(ref _reachabilityVersion);
        StateChanged?.Invoke(after);
        if (after.TryGetMember(Self, out MemberRecord? self) && self!.Status == MemberStatus.Removed
            && (!before.TryGetMember(Self, out MemberRecord? previous) || previous!.Status != MemberStatus.Removed))
        {
            _logger.LogWarning("{Node} is no longer a member of the cluster", Self);
            Departed?.Invoke();
        }
    }

    /// <summary>Every member other than this node and the removed is probed by the failure detector.</summary>
    private void TrackPeers(ClusterState state)
    {
        foreach (MemberRecord member in state.Members.Values)
        {
            if (member.Id == Self)
            {
                continue;
            }

            if (member.Status == MemberStatus.Removed)
            {
                _detector.RemovePeer(member.Id);
            }
            else
            {
                _detector.AddPeer(member.Id);
            }
        }
    }

    private Dictionary<NodeId, PeerClient> ClientsFor(ClusterState state)
    {
        var clients = new Dictionary<NodeId, PeerClient>(state.Members.Count);
        foreach (MemberRecord member in state.Members.Values)
        {
            if (member.Id != Self && member.Status != MemberStatus.Removed)
            {
                clients[member.Id] = ClientForAddress(member.Address);
            }
        }

        return clients;
    }

    private PeerClient ClientForAddress(string address) =>
        _clientsByAddress.TryGetValue(address, out PeerClient? client)
            ? client
            : _clientsByAddress.GetOrAdd(address, static (a, self) => new PeerClient(ParseEndPoint(a), self._transport, self._clock, self._loggers.CreateLogger<PeerClient>()), this);

    private static EndPoint ParseEndPoint(string address)
    {
        if (IPEndPoint.TryParse(address, out IPEndPoint? ip) && ip.Port != 0)
        {
            return ip;
        }

        int colon = address.LastIndexOf(':');
        return colon > 0 && int.TryParse(address.AsSpan(colon + 1), out int port)
            ? new DnsEndPoint(address[..colon], port)
            : throw new FormatException($"'{address}' is not HOST:PORT.");
    }

    private async Task SeedLoopAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested && _state.Ring is null)
        {
            try
            {
                await SeedAttemptAsync(stopping);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stopping.IsCancellationRequested)
            {
                _notReady = exception.Message;
                _logger.LogDebug("Seed attempt failed: {Reason}", exception.Message);
            }

            if (_state.Ring is null)
            {
                await Task.Delay(SeedInterval, _clock, stopping);
            }
        }
    }

    /// <summary>One pass over the seeds: adopt or join a seed's cluster, or found one with the seeds when none has a ring.</summary>
    private async Task SeedAttemptAsync(CancellationToken stopping)
    {
        var founders = new List<MemberRecord> { _selfRecord };
        var waiting = new List<string>();
        foreach (IPEndPoint seed in _seeds)
        {
            string address = seed.ToString();
            if (address == _selfRecord.Address)
            {
                continue;
            }

            PeerClient client = ClientForAddress(address);
            ClusterState theirs;
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                attempt.CancelAfter(TimeSpan.FromSeconds(3));
                PeerResponse response = await client.SendAsync(new GossipDigest(0, 0), _transport.DefaultRequestTimeout, attempt.Token);
                theirs = response.Type == PeerMessageType.GossipState
                    ? ClusterState.Read(response.Read<GossipState>().EncodedState.Span)
                    : ClusterState.Empty;
            }
            catch (PeerRefusedException exception)
            {
                waiting.Add($"{address} refused this node ({exception.Message})");
                continue;
            }
            catch (Exception exception) when (exception is PeerUnavailableException or TimeoutException or PeerRemoteException or FormatException
                                              or OperationCanceledException && !stopping.IsCancellationRequested)
            {
                waiting.Add($"{address} not reachable ({exception.Message})");
                continue;
            }

            if (theirs.Ring is not null)
            {
                if (theirs.TryGetMember(Self, out MemberRecord? known) && known!.Status != MemberStatus.Removed)
                {
                    // This node's id is in the ring but it has no saved state: a wiped node coming back (Announce notices).
                    Apply(state => state.Merge(theirs));
                    _logger.LogWarning("Seed {Seed} knows {Node} as a member but this data directory is new", address, Self);
                    return;
                }

                PeerResponse reply = await client.SendAsync(new JoinRequest(new MemberRecord(_selfRecord.Node, _selfRecord.Address, MemberStatus.Joining, known?.Incarnation + 1 ?? 0)), _transport.DefaultRequestTimeout, stopping);
                ClusterState admitted = ClusterState.Read(reply.Read<JoinReply>().EncodedState.Span);
                _foundedOrJoined = true;
                Apply(state => state.Merge(admitted));
                _logger.LogInformation("Joined the cluster through seed {Seed}: {State}", address, _state);
                return;
            }

            PeerIdentity identity = client.RemoteIdentity ?? throw new PeerUnavailableException($"{address} did not identify itself");
            founders.Add(new MemberRecord(new NodeDescriptor(new NodeId(identity.NodeId), identity.Datacenter, identity.Rack), address, MemberStatus.Up, 0));
        }

        if (waiting.Count > 0)
        {
            _notReady = "waiting for seed(s): " + string.Join("; ", waiting);
            return;
        }

        if (founders.Select(f => f.Id).Distinct().Count() != founders.Count)
        {
            _notReady = "two seeds (or a seed and this node) have the same node id: " + string.Join(", ", founders.Select(f => $"{f.Id}@{f.Address}"));
            return;
        }

        ClusterState founded = ClusterState.Bootstrap(founders, _partitionBits);
        _foundedOrJoined = true;
        Apply(state => state.Merge(founded));
        _logger.LogInformation("Founded the cluster with {Members}", string.Join(", ", founders.Select(f => f.Id)));
    }

    private async Task GossipLoopAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            await Task.Delay(_options.Interval, _clock, stopping);
            ClusterState state = _state;
            if (state.Ring is null)
            {
                continue;
            }

            Interlocked.Increment(ref _gossipRounds);
            try
            {
                IReadOnlyList<GossipSend> sends;
                lock (_random)
                {
                    sends = GossipRound.Start(state, Self, _random, _options.FanOut);
                }

                await Task.WhenAll(sends.Select(send => ExchangeAsync(send, stopping)));
            }
            catch (Exception exception) when (exception is not OperationCanceledException and not OutOfMemoryException)
            {
                // A failed round (say the state file could not be written) must not end gossip: the next one retries.
                _logger.LogError(exception, "Gossip round failed; the next one retries");
            }
        }
    }

    /// <summary>One push-pull exchange: digest out; if the peer answers with its state, merge it and push back what it lacked.</summary>
    private async Task ExchangeAsync(GossipSend send, CancellationToken stopping)
    {
        if (ClientFor(send.To) is not { } client)
        {
            return;
        }

        try
        {
            PeerResponse response = await client.SendAsync(send.Message, _transport.DefaultRequestTimeout, stopping);
            if (response.Type != PeerMessageType.GossipState)
            {
                return;
            }

            GossipStep step = default!;
            Apply(state =>
            {
                step = GossipRound.Receive(state, response.Read<GossipState>());
                return step.State;
            });
            if (step.Reply is { } push)
            {
                await client.SendAsync(push, _transport.DefaultRequestTimeout, stopping);
            }
        }
        catch (Exception exception) when (exception is PeerUnavailableException or TimeoutException or PeerRemoteException or PeerRefusedException or FormatException
                                          or OperationCanceledException && !stopping.IsCancellationRequested)
        {
            _logger.LogDebug("Gossip with {Peer} failed: {Reason}", send.To, exception.Message);
        }
    }

    private async Task<bool> PingAsync(NodeId node, CancellationToken cancellationToken)
    {
        IPeerClient client = ClientFor(node) ?? throw new InvalidOperationException($"unknown peer {node}");
        ulong sequence = (ulong)Interlocked.Increment(ref _pingSequence);
        PeerResponse response = await client.SendAsync(new Ping(sequence), _detector.PingTimeout, cancellationToken);
        return response.Read<Pong>().Sequence == sequence;
    }

    private ClusterState? LoadSavedState()
    {
        if (!File.Exists(_stateFile))
        {
            return null;
        }

        try
        {
            ClusterState saved = ClusterState.Read(File.ReadAllBytes(_stateFile));
            _logger.LogInformation("Resuming the saved cluster state: {State}", saved);
            return saved;
        }
        catch (Exception exception) when (exception is FormatException or IOException)
        {
            _logger.LogWarning("Ignoring unreadable {File}: {Reason}; the state is learned from the seeds again", _stateFile, exception.Message);
            return null;
        }
    }

    private void Save(ClusterState state)
    {
        // Write then rename, so a crash never leaves a half-written file.
        string temporary = _stateFile + ".tmp";
        File.WriteAllBytes(temporary, state.ToBytes());
        File.Move(temporary, _stateFile, overwrite: true);
    }
}
