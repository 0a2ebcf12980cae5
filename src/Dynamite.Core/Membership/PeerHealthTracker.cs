namespace Dynamite.Core.Membership;

/// <summary>
/// This node's view of its peers' health: a <see cref="PhiAccrualFailureDetector"/> per peer plus a count of
/// consecutive failures, turned into <see cref="PeerHealth"/> by three rules:
/// <list type="bullet">
/// <item>any success (ping reply or response) makes the peer Up and is a heartbeat;</item>
/// <item><see cref="PeerHealthOptions.FailuresToDown"/> consecutive failures make it Down at once: a refused
/// connection is proof enough, there is no need to wait for phi to accrue;</item>
/// <item><see cref="Evaluate"/> makes a silent peer Suspect, then Down, as its phi crosses the thresholds.
/// phi only falls with a heartbeat, so Evaluate only ever escalates; recovery is always a success.</item>
/// </list>
/// Pure (time comes in as arguments) and NOT thread-safe: the runtime (FailureDetectorLoop) holds a lock
/// around every call.
/// </summary>
public sealed class PeerHealthTracker
{
    private readonly PeerHealthOptions _options;
    private readonly Dictionary<NodeId, PeerHealthState> _peers = [];

    public PeerHealthTracker(PeerHealthOptions? options = null)
    {
        _options = options ?? new PeerHealthOptions();
        _options.Validate();
    }

    public PeerHealthOptions Options => _options;

    public int Count => _peers.Count;

    /// <summary>The tracked peers, in no particular order (a copy).</summary>
    public IReadOnlyList<NodeId> Peers => [.. _peers.Keys];

    /// <summary>Starts tracking a peer (Up until proven otherwise); false if it already was.</summary>
    public bool AddPeer(NodeId peer)
    {
        RequireId(peer);
        if (_peers.ContainsKey(peer))
        {
            return false;
        }

        _peers.Add(peer, NewState());
        return true;
    }

    /// <summary>Forgets a peer (it left the cluster); false if it was not tracked.</summary>
    public bool RemovePeer(NodeId peer) => _peers.Remove(peer);

    public bool Contains(NodeId peer) => _peers.ContainsKey(peer);

    /// <summary>The peer answered at <paramref name="nowUnixMs"/>. Tracks an unknown peer.</summary>
    /// <returns>The transition to Up, if the peer was not Up.</returns>
    public PeerHealthTransition? RecordSuccess(NodeId peer, long nowUnixMs)
    {
        PeerHealthState state = GetOrAdd(peer);
        state.Detector.Heartbeat(nowUnixMs);
        state.ConsecutiveFailures = 0;
        return Move(peer, state, PeerHealth.Up);
    }

    /// <summary>A ping failed or timed out, or a connection was refused or reset. Tracks an unknown peer.</summary>
    /// <returns>The transition to Down, if this failure made the peer Down.</returns>
    public PeerHealthTransition? RecordFailure(NodeId peer, long nowUnixMs)
    {
        _ = nowUnixMs; // Part of the contract so a later rule (failures per time window) needs no new signature.
        PeerHealthState state = GetOrAdd(peer);
        // Saturate: a peer down for days must not wrap the counter.
        if (state.ConsecutiveFailures < int.MaxValue)
        {
            state.ConsecutiveFailures++;
        }

        return state.ConsecutiveFailures >= _options.FailuresToDown ? Move(peer, state, PeerHealth.Down) : null;
    }

    /// <summary>Applies the phi thresholds at <paramref name="nowUnixMs"/>.</summary>
    /// <returns>Every peer whose health changed (empty, not allocated, when none did).</returns>
    public IReadOnlyList<PeerHealthTransition> Evaluate(long nowUnixMs)
    {
        List<PeerHealthTransition>? changes = null;
        foreach ((NodeId peer, PeerHealthState state) in _peers)
        {
            if (state.Health == PeerHealth.Down)
            {
                continue;
            }

            double phi = state.Detector.Phi(nowUnixMs);
            PeerHealth target = phi >= _options.DownThreshold ? PeerHealth.Down
                : phi >= _options.SuspectThreshold ? PeerHealth.Suspect
                : state.Health;
            if (target > state.Health && Move(peer, state, target) is PeerHealthTransition change)
            {
                (changes ??= []).Add(change);
            }
        }

        return changes is null ? [] : changes;
    }

    /// <summary>The peer's health; Down for a peer that is not tracked (nothing is known to reach it).</summary>
    public PeerHealth GetHealth(NodeId peer) => _peers.TryGetValue(peer, out PeerHealthState? state) ? state.Health : PeerHealth.Down;

    /// <summary>True when the peer is Up: only then is it sent requests as a primary replica.</summary>
    public bool IsReachable(NodeId peer) => GetHealth(peer) == PeerHealth.Up;

    /// <summary>Every peer's health, phi at <paramref name="nowUnixMs"/>, last heartbeat and failures, ordered by id.</summary>
    public IReadOnlyList<PeerHealthStatus> Snapshot(long nowUnixMs)
    {
        var rows = new List<PeerHealthStatus>(_peers.Count);
        foreach ((NodeId peer, PeerHealthState state) in _peers)
        {
            rows.Add(new PeerHealthStatus(peer, state.Health, state.Detector.Phi(nowUnixMs), state.Detector.LastHeartbeatUnixMs, state.ConsecutiveFailures));
        }

        rows.Sort(static (a, b) => a.Peer.CompareTo(b.Peer));
        return rows;
    }

    private PeerHealthState GetOrAdd(NodeId peer)
    {
        RequireId(peer);
        if (!_peers.TryGetValue(peer, out PeerHealthState? state))
        {
            state = NewState();
            _peers.Add(peer, state);
        }

        return state;
    }

    private PeerHealthState NewState() => new(new PhiAccrualFailureDetector(
        _options.MaxSampleSize, _options.MinStdDeviationMs, _options.AcceptablePauseMs, _options.FirstHeartbeatEstimateMs));

    private static PeerHealthTransition? Move(NodeId peer, PeerHealthState state, PeerHealth target)
    {
        if (state.Health == target)
        {
            return null;
        }

        var change = new PeerHealthTransition(peer, state.Health, target);
        state.Health = target;
        return change;
    }

    private static void RequireId(NodeId peer)
    {
        if (peer.Value is null)
        {
            throw new ArgumentException("The peer id must not be default.", nameof(peer));
        }
    }
}
