using Dynamite.Cluster.Runtime;
using Dynamite.Core.Membership;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dynamite.Cluster.Membership;

/// <summary>
/// The runtime half of failure detection: every <see cref="Interval"/> it pings every tracked peer
/// (concurrently, each bounded by <see cref="PingTimeout"/>), feeds the outcomes to the pure
/// <see cref="PeerHealthTracker"/> and applies its phi thresholds, raising <see cref="PeerHealthChanged"/>
/// for every transition (hinted handoff replays on Down → Up).
/// <para>
/// A peer whose previous ping is still in flight is not pinged again, so a hung peer never stretches the
/// round for the others: their heartbeats keep arriving at the interval the detector expects.
/// </para>
/// <para>
/// Threading: every call into the tracker happens under one lock, so all public members are safe from any
/// thread. <see cref="PeerHealthChanged"/> is raised outside the lock (a handler may call back in), on the
/// thread that observed the change; concurrent pings may raise for different peers at the same time.
/// Time is <see cref="TimeProvider.GetUtcNow"/> in Unix milliseconds.
/// </para>
/// </summary>
public sealed class FailureDetectorLoop : IAsyncDisposable
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Longer than the interval: a loaded peer across a datacenter link is slow, not dead. The
    /// in-flight rule keeps a slow ping from delaying the next round.</summary>
    public static readonly TimeSpan DefaultPingTimeout = TimeSpan.FromMilliseconds(1000);

    private readonly PeerHealthTracker _tracker;
    private readonly Func<NodeId, CancellationToken, Task<bool>> _ping;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    // Guards _tracker, _inFlight and _pendingPings.
    private readonly Lock _lock = new();
    private readonly HashSet<NodeId> _inFlight = [];
    private readonly List<Task> _pendingPings = [];

    private readonly BackgroundWorker _worker;

    /// <param name="tracker">Owned by this loop from now on: call it only through the loop.</param>
    /// <param name="ping">Sends a ping to the peer; true if it answered. It should honour the token; the
    /// loop stops waiting at the timeout either way. An exception counts as a failure.</param>
    /// <param name="timeProvider">The clock for rounds, timeouts and heartbeat times (default: the system's).</param>
    /// <param name="interval">Time between rounds (default 500 ms).</param>
    /// <param name="pingTimeout">How long a ping may take before it counts as a failure (default 1 s).</param>
    /// <param name="logger">Transitions at Information, failing handlers at Error.</param>
    public FailureDetectorLoop(
        PeerHealthTracker tracker,
        Func<NodeId, CancellationToken, Task<bool>> ping,
        TimeProvider? timeProvider = null,
        TimeSpan? interval = null,
        TimeSpan? pingTimeout = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(tracker);
        ArgumentNullException.ThrowIfNull(ping);
        Interval = interval ?? DefaultInterval;
        PingTimeout = pingTimeout ?? DefaultPingTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Interval, TimeSpan.Zero, nameof(interval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PingTimeout, TimeSpan.Zero, nameof(pingTimeout));
        _tracker = tracker;
        _ping = ping;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _worker = new BackgroundWorker("failure detector", Interval, RoundAsync, _timeProvider, _logger, stepAtStart: true);
    }

    /// <summary>Raised with (peer, old health, new health) after every transition.</summary>
    public event Action<NodeId, PeerHealth, PeerHealth>? PeerHealthChanged;

    public TimeSpan Interval { get; }

    public TimeSpan PingTimeout { get; }

    private long NowUnixMs => _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Starts pinging a peer from the next round; it is Up until proven otherwise.</summary>
    public bool AddPeer(NodeId peer)
    {
        lock (_lock)
        {
            return _tracker.AddPeer(peer);
        }
    }

    public bool RemovePeer(NodeId peer)
    {
        lock (_lock)
        {
            return _tracker.RemovePeer(peer);
        }
    }

    /// <summary>Any successful response from the peer is a heartbeat (callers outside the loop use this too).</summary>
    public void RecordSuccess(NodeId peer)
    {
        PeerHealthTransition? change;
        lock (_lock)
        {
            change = _tracker.RecordSuccess(peer, NowUnixMs);
        }

        Raise(change);
    }

    /// <summary>A refused or reset connection, or a request that failed at the transport.</summary>
    public void RecordFailure(NodeId peer)
    {
        PeerHealthTransition? change;
        lock (_lock)
        {
            change = _tracker.RecordFailure(peer, NowUnixMs);
        }

        Raise(change);
    }

    public PeerHealth GetHealth(NodeId peer)
    {
        lock (_lock)
        {
            return _tracker.GetHealth(peer);
        }
    }

    /// <summary>True when the peer is Up.</summary>
    public bool IsReachable(NodeId peer)
    {
        lock (_lock)
        {
            return _tracker.IsReachable(peer);
        }
    }

    /// <summary>Every peer's health, phi now, last heartbeat and failures, ordered by id.</summary>
    public IReadOnlyList<PeerHealthStatus> Snapshot()
    {
        lock (_lock)
        {
            return _tracker.Snapshot(NowUnixMs);
        }
    }

    /// <summary>Starts the loop in the background; <see cref="StopAsync"/> ends it.</summary>
    public void Start() => _worker.Start();

    /// <summary>Stops the loop and waits for the pings in flight (each ends at its timeout at the latest).</summary>
    public async Task StopAsync()
    {
        await _worker.StopAsync();
        await WaitForPingsAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private Task RoundAsync(CancellationToken stopping)
    {
        ProbeRound(stopping);
        return Task.CompletedTask;
    }

    /// <summary>
    /// One round: starts a ping to every peer that has none in flight, then applies the phi thresholds.
    /// The pings finish on their own (a ping that completes synchronously is recorded before this returns).
    /// </summary>
    public void ProbeRound(CancellationToken cancellationToken)
    {
        List<NodeId> toPing = [];
        lock (_lock)
        {
            _pendingPings.RemoveAll(static task => task.IsCompleted);
            foreach (NodeId peer in _tracker.Peers)
            {
                if (_inFlight.Add(peer))
                {
                    toPing.Add(peer);
                }
            }
        }

        foreach (NodeId peer in toPing)
        {
            Task ping = PingAsync(peer, cancellationToken);
            if (!ping.IsCompleted)
            {
                lock (_lock)
                {
                    _pendingPings.Add(ping);
                }
            }
        }

        IReadOnlyList<PeerHealthTransition> changes;
        lock (_lock)
        {
            changes = _tracker.Evaluate(NowUnixMs);
        }

        foreach (PeerHealthTransition change in changes)
        {
            Raise(change);
        }
    }

    /// <summary>Completes when every ping started so far has been recorded.</summary>
    public Task WaitForPingsAsync()
    {
        lock (_lock)
        {
            return Task.WhenAll(_pendingPings);
        }
    }

    private async Task PingAsync(NodeId peer, CancellationToken stopping)
    {
        bool answered;
        try
        {
            using var timeout = new CancellationTokenSource(PingTimeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping);
            // WaitAsync bounds the wait even if the delegate ignores its token.
            answered = await _ping(peer, linked.Token).WaitAsync(PingTimeout, _timeProvider, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutting down: no verdict about the peer.
            lock (_lock)
            {
                _inFlight.Remove(peer);
            }

            return;
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            answered = false;
        }
        catch (Exception exception)
        {
            _logger.LogDebug(exception, "Ping to {Peer} failed", peer);
            answered = false;
        }

        PeerHealthTransition? change;
        lock (_lock)
        {
            _inFlight.Remove(peer);
            // A peer removed while its ping was in flight stays removed.
            if (!_tracker.Contains(peer))
            {
                return;
            }

            long now = NowUnixMs;
            change = answered ? _tracker.RecordSuccess(peer, now) : _tracker.RecordFailure(peer, now);
        }

        Raise(change);
    }

    private void Raise(PeerHealthTransition? change)
    {
        if (change is not PeerHealthTransition transition)
        {
            return;
        }

        _logger.LogInformation("Peer {Peer} is now {Health} (was {Old})", transition.Peer, transition.New, transition.Old);
        try
        {
            PeerHealthChanged?.Invoke(transition.Peer, transition.Old, transition.New);
        }
        catch (Exception exception)
        {
            // A failing subscriber must not stop failure detection for everyone else.
            _logger.LogError(exception, "A PeerHealthChanged handler failed for {Peer} {Old} -> {New}", transition.Peer, transition.Old, transition.New);
        }
    }
}
