using Dynamite.Cluster.Coordination;
using Dynamite.Cluster.State;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Ring;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Membership;

/// <summary>
/// This node's view of the cluster (riak_core's ring over the core's <see cref="ClusterState"/> CRDT) and the
/// <see cref="IClusterTopology"/> the coordinator routes by. Every change goes through <see cref="Apply"/>: the
/// change, the SWIM refutation of a "down" verdict about this node, the claimant's step (<see cref="Claimant"/>
/// plans ownership), a save of the state, then the announcement. The loops that feed it are their own classes:
/// <see cref="SeedJoiner"/> (found, join, adopt), <see cref="GossipLoop"/> (push-pull rounds); the failure
/// detector's verdicts arrive through <see cref="FailureDetectorLoop.PeerHealthChanged"/>, and connections come
/// from the <see cref="PeerConnectionPool"/>.
/// <para>
/// Requests are routed by the ring's current map; while a plan is pending, writes also go to the nodes that
/// gain replicas (<see cref="PendingMap"/>), and the map switches only when every gainer reported its copies.
/// Every state change is saved before it is gossiped. A node whose data is gone (a volatile engine, or a wiped
/// data directory adopting a ring that already names it) owes a warm-up, marked in a state file so a restart
/// mid-copy still owes it. Thread-safety: state changes are serialized by one lock; readers see an immutable
/// state through a volatile field.
/// </para>
/// </summary>
public sealed class GossipMembership : IClusterTopology
{
    private const string StateFileName = "cluster-state.bin";
    private const string WarmUpMarkerName = "warmup-owed";

    private readonly MemberRecord _selfRecord;
    private readonly int _replicas;
    private readonly INodeStateStore _files;
    private readonly PeerConnectionPool _peers;
    private readonly IReadOnlyCollection<string> _seedAddresses;
    private readonly ILogger _logger;
    private readonly Lock _changing = new();
    private readonly FailureDetectorLoop _detector;
    private volatile ClusterState _state;
    private volatile string _notReady = "looking for seeds";
    private long _reachabilityVersion;
    private volatile bool _foundedOrJoined;

    /// <param name="self">This node.</param>
    /// <param name="advertisedAddress">The peer address other nodes reach this one at.</param>
    /// <param name="seedAddresses">Seed addresses; their connections are kept even when the member behind one is removed.</param>
    /// <param name="replicas">N: replicas per partition, for the claimant.</param>
    /// <param name="peers">The connections to peers, tracked from every state.</param>
    /// <param name="detector">The failure detector; the membership tells it which peers to probe and gossips its Down verdicts.</param>
    /// <param name="files">Where the state and the warm-up marker are kept.</param>
    /// <param name="logger">Membership changes.</param>
    /// <param name="volatileData">The engine keeps nothing across restarts: a member that restarts must warm up.</param>
    /// <param name="clientAddress">Where Redis clients reach this node (empty: not said).</param>
    public GossipMembership(
        NodeDescriptor self,
        string advertisedAddress,
        IReadOnlyCollection<string> seedAddresses,
        int replicas,
        PeerConnectionPool peers,
        FailureDetectorLoop detector,
        INodeStateStore files,
        ILogger logger,
        bool volatileData = false,
        string clientAddress = "")
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentException.ThrowIfNullOrEmpty(advertisedAddress);
        ArgumentNullException.ThrowIfNull(seedAddresses);
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(logger);
        _selfRecord = new MemberRecord(self, advertisedAddress, MemberStatus.Up, 0, clientAddress);
        _seedAddresses = seedAddresses;
        _replicas = replicas;
        _peers = peers;
        _files = files;
        _logger = logger;
        _detector = detector;
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
        _peers.Track(_state, _seedAddresses);

        // The memory engine lost its data with the process: a member that restarts must warm up like a wiped one.
        NeedsWarmUp = volatileData && _state.TryGetMember(Self, out MemberRecord? saved) && saved!.Status != MemberStatus.Removed;
        if (NeedsWarmUp)
        {
            OweWarmUp();
        }

        // A node that stopped during warm-up still owes it: it serves no reads from its first request on.
        IsWarming = _files.Exists(WarmUpMarkerName);
        TrackPeers(_state);
    }

    /// <summary>Raised after every change of the local state (merge, transition or plan), outside the lock.</summary>
    public event Action<ClusterState>? StateChanged;

    /// <summary>Raised once when this node learns that it left the cluster (its own record is Removed).</summary>
    public event Action? Departed;

    public NodeId Self => _selfRecord.Id;

    /// <summary>This node's record as it announces itself to seeds (Up, incarnation 0).</summary>
    public MemberRecord SelfRecord => _selfRecord;

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

    public PartitionMap? Map => _state.Ring?.Current;

    /// <summary>The map the pending plan moves towards; null when no plan is in progress.</summary>
    public PartitionMap? PendingMap => _state.Ring?.Pending;

    public string NotReadyReason => _state.Ring is null ? _notReady : "ready";

    /// <summary>False while this node warms up (or has no cluster yet, so cannot know whether it must): its own copy must not answer reads.</summary>
    public bool ServesLocalReads => !IsWarming && _state.Ring is not null;

    /// <summary>True from the moment this node learns its data is gone until <see cref="CompleteWarmUp"/>; survives restarts.</summary>
    public bool IsWarming { get; private set; }

    public long ReachabilityVersion => Interlocked.Read(ref _reachabilityVersion);

    /// <summary>The handoff service copied every partition this node replicates: it serves reads again.</summary>
    public void CompleteWarmUp()
    {
        _files.Delete(WarmUpMarkerName);
        IsWarming = false;
    }

    public bool IsReachable(NodeId node) => node == Self || _detector.IsReachable(node);

    public bool IsMember(NodeId node) => _state.TryGetMember(node, out MemberRecord? member) && member!.Status != MemberStatus.Removed;

    /// <summary>A connection to a member; null for this node, strangers and removed members (nothing is sent to those).</summary>
    public IPeerClient? ClientFor(NodeId node) => _peers.ClientFor(node);

    public string? AddressOf(NodeId node) => _state.TryGetMember(node, out MemberRecord? member) ? member!.Address : null;

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

        if (state.TryGetMember(Self, out MemberRecord? self) && self!.Status is MemberStatus.Leaving or MemberStatus.Removed)
        {
            // This node stops gossiping once its leave completes, possibly before the removal has spread: the
            // simulation lost a removal that way (seed 2007490 of the membership schedule). Another member must take it.
            throw new InvalidOperationException($"{Self} is leaving the cluster; run remove on another member.");
        }

        return ClusterTransitions.Remove(state, node);
    });

    /// <summary>
    /// An ACL user changed through this node (<paramref name="rules"/> as ACL LIST writes them; null: deleted): the change
    /// becomes the user's latest version, which gossip takes to every member.
    /// </summary>
    public ClusterState SetAclUser(string name, string? rules) => Apply(state =>
    {
        long version = state.Users.TryGetValue(name, out AclUserRecord? known) ? known!.Version + 1 : 1;
        return state.WithUser(new AclUserRecord(name, version, Self.Value, Deleted: rules is null, rules ?? ""));
    });

    /// <summary>This node holds every partition the plan <paramref name="copiedFor"/> gives it.</summary>
    public ClusterState ReportReady(RingState copiedFor) => Apply(state => ClusterTransitions.ReportReady(state, Self, copiedFor));

    /// <summary>Serves the gossip messages (50–52); <see cref="GossipRequestHandler"/> calls it.</summary>
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

    /// <summary>Why the node has no cluster yet, as the seed joiner last saw it.</summary>
    internal void SetNotReady(string reason) => _notReady = reason;

    /// <summary>This node founded or joined a cluster itself: a ring arriving now is not a sign of a wiped node.</summary>
    internal void MarkFoundedOrJoined() => _foundedOrJoined = true;

    private static ClusterState RequireRing(ClusterState state) =>
        state.Ring is null ? throw new InvalidOperationException("This node is not part of a cluster yet.") : state;

    /// <summary>Applies a change under the lock, lets the claimant react, saves, and announces. Returns the new state.</summary>
    internal ClusterState Apply(Func<ClusterState, ClusterState> change)
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

            if (after.TryGetMember(Self, out MemberRecord? recorded) && recorded!.ClientAddress != _selfRecord.ClientAddress)
            {
                after = ClusterTransitions.AnnounceClientAddress(after, Self, _selfRecord.ClientAddress);
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
            _peers.Track(after, _seedAddresses);
            _state = after;
        }

        Announce(before, after);
        return after;
    }

    /// <summary>Replaces the whole state (joining another cluster): the only change that is not a merge.</summary>
    internal ClusterState Replace(ClusterState cluster, string why)
    {
        ClusterState before;
        _foundedOrJoined = true;
        lock (_changing)
        {
            before = _state;
            Save(cluster);
            _peers.Track(cluster, _seedAddresses);
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
        _files.Write(WarmUpMarkerName, "this node's data is gone; it copies its partitions before serving reads\n"u8);
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

    private ClusterState? LoadSavedState()
    {
        byte[]? saved;
        try
        {
            saved = _files.Read(StateFileName);
        }
        catch (IOException exception)
        {
            _logger.LogWarning("Ignoring unreadable {File}: {Reason}; the state is learned from the seeds again", StateFileName, exception.Message);
            return null;
        }

        if (saved is null)
        {
            return null;
        }

        try
        {
            ClusterState state = ClusterState.Read(saved);
            _logger.LogInformation("Resuming the saved cluster state: {State}", state);
            return state;
        }
        catch (FormatException exception)
        {
            _logger.LogWarning("Ignoring unreadable {File}: {Reason}; the state is learned from the seeds again", StateFileName, exception.Message);
            return null;
        }
    }

    private void Save(ClusterState state) => _files.Write(StateFileName, state.ToBytes());
}
