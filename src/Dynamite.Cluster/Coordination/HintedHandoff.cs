using Dynamite.Cluster.Metrics;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Runtime;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// Replays hints (Dynamo §4.6): about once a second while there are hints, and as soon as the failure detector sees a
/// peer come back, every hint kept for a reachable peer is sent to it as a replica put (which merges, so a replay twice
/// is harmless) and removed only once acknowledged and unchanged. A failure stops that peer's replay until
/// the next round; nothing is dropped. With no hints at all the loop sleeps (a round every <see cref="IdleInterval"/>,
/// as a safety net) and the first new hint wakes it, so an idle node spends no wake-ups on it.
/// </summary>
public sealed class HintedHandoff : IAsyncDisposable
{
    private const int BatchSize = 256;
    private const int ParallelSends = 32;
    private static readonly TimeSpan RoundInterval = TimeSpan.FromSeconds(1);

    /// <summary>The wait after a round that found no hints at all (a new hint wakes the loop sooner).</summary>
    public static readonly TimeSpan IdleInterval = TimeSpan.FromSeconds(30);

    private readonly HintStore _hints;
    private readonly ReplicaStore _local;
    private readonly IClusterTopology _topology;
    private readonly NodeDescriptor _self;
    private readonly int _replicas;
    private readonly TimeSpan _requestTimeout;
    private readonly ILogger _logger;
    private readonly BackgroundWorker _worker;
    // Hints delivered and removed since start: for the log lines that sum up a replay (the metric is Metrics').
    private long _replayed;

    // 1 while the loop sleeps for lack of hints: a new hint then wakes it.
    private int _sleepingWithoutHints;

    public HintedHandoff(HintStore hints, ReplicaStore local, IClusterTopology topology, NodeDescriptor self, int replicas, TimeSpan requestTimeout, TimeProvider clock, ILogger<HintedHandoff> logger)
    {
        _hints = hints;
        _local = local;
        _topology = topology;
        _self = self;
        _replicas = replicas;
        _requestTimeout = requestTimeout;
        _logger = logger;
        _worker = new BackgroundWorker("hinted handoff", RoundInterval, RoundAsync, clock, logger);
        _hints.HintAdded += OnHintAdded;
    }

    /// <summary>Where hints delivered and removed are counted (<see cref="ClusterMetrics.HintsReplayed"/>); null: not counted.</summary>
    public ClusterMetrics? Metrics { get; init; }

    public HintStore Hints => _hints;

    public void Start() => _worker.Start();

    /// <summary>Starts a round now (a peer came back).</summary>
    public void Wake() => _worker.Wake();

    public async ValueTask DisposeAsync()
    {
        _hints.HintAdded -= OnHintAdded;
        await _worker.DisposeAsync();
    }

    private void OnHintAdded()
    {
        // The count rose before this (full fences on both sides): either the round sees the hint, or this sees it asleep.
        if (Volatile.Read(ref _sleepingWithoutHints) != 0 && Interlocked.Exchange(ref _sleepingWithoutHints, 0) != 0)
        {
            _worker.Wake();
        }
    }

    private async Task<TimeSpan> RoundAsync(CancellationToken stopping)
    {
        await ReplayAllAsync(stopping);
        Interlocked.Exchange(ref _sleepingWithoutHints, 1);
        if (_hints.Count > 0)
        {
            Interlocked.Exchange(ref _sleepingWithoutHints, 0);
            return RoundInterval;
        }

        return IdleInterval;
    }

    private async Task ReplayAllAsync(CancellationToken stopping)
    {
        // In node order: the same rounds replay the same way (the counts are a hash map).
        foreach (NodeId node in _hints.CountsByNode().Keys.Order())
        {
            if (!_topology.IsMember(node))
            {
                // Removed (or left) since the hint was kept: the key's current primaries take it instead.
                try
                {
                    await RedirectAsync(node, stopping);
                }
                catch (Exception exception) when (exception is not OperationCanceledException and not OutOfMemoryException)
                {
                    _logger.LogError(exception, "Redirecting the hints of {Node} failed; it is retried next round", node);
                }
            }
            else if (_topology.IsReachable(node) && _topology.ClientFor(node) is { } client)
            {
                try
                {
                    await ReplayAsync(node, client, stopping);
                }
                catch (Exception exception) when (exception is not OperationCanceledException and not OutOfMemoryException)
                {
                    // One node's failure (a storage error, a bug) must not end replay for every node: log, go on.
                    _logger.LogError(exception, "Hint replay to {Node} failed; it is retried next round", node);
                }
            }
        }
    }

    private async Task ReplayAsync(NodeId node, IPeerClient client, CancellationToken stopping)
    {
        long before = Interlocked.Read(ref _replayed);
        while (!stopping.IsCancellationRequested)
        {
            IReadOnlyList<Hint> batch = _hints.Take(node, BatchSize);
            if (batch.Count == 0)
            {
                break;
            }

            var sends = new List<Task<bool>>(ParallelSends);
            bool allDelivered = true;
            foreach (Hint hint in batch)
            {
                sends.Add(DeliverAsync(client, hint, stopping));
                if (sends.Count == ParallelSends)
                {
                    allDelivered &= await AllSucceededAsync(sends);
                    sends.Clear();
                }
            }

            allDelivered &= await AllSucceededAsync(sends);
            if (!allDelivered)
            {
                break;
            }
        }

        long delivered = Interlocked.Read(ref _replayed) - before;
        if (delivered > 0)
        {
            _logger.LogInformation("Hinted handoff delivered {Count} writes to {Node}", delivered, node);
        }
    }

    /// <summary>
    /// Hints kept for a node that is no longer a member go to each current primary of their key (this node's own copy
    /// merged in place), and are removed once every primary has them; a primary out of reach keeps them for a later round.
    /// </summary>
    private async Task RedirectAsync(NodeId departed, CancellationToken stopping)
    {
        if (_topology.Map is not { } map)
        {
            return;
        }

        var partitioner = new KeyPartitioner(map.PartitionBits);
        long before = Interlocked.Read(ref _replayed);
        while (!stopping.IsCancellationRequested)
        {
            IReadOnlyList<Hint> batch = _hints.Take(departed, BatchSize);
            bool allDelivered = batch.Count > 0;
            foreach (Hint hint in batch)
            {
                bool delivered = true;
                foreach (NodeId primary in PreferenceListBuilder.PrimariesOf(map, partitioner.PartitionOf(hint.Key), _self.Datacenter, _replicas))
                {
                    if (primary == _self.Id)
                    {
                        await (hint.Delta is { } delta ? _local.TypedKeys.JoinAsync(hint.Key, delta, stopping) : MergeAsync(hint, stopping));
                    }
                    else
                    {
                        delivered &= _topology.IsReachable(primary) && _topology.ClientFor(primary) is { } client && await SendAsync(client, hint, stopping);
                    }
                }

                if (delivered && await _hints.RemoveIfUnchangedAsync(hint, stopping))
                {
                    Interlocked.Increment(ref _replayed);
                    Metrics?.HintsReplayedCounter.Add(1);
                }

                allDelivered &= delivered;
            }

            if (!allDelivered)
            {
                break;
            }
        }

        if (Interlocked.Read(ref _replayed) > before)
        {
            _logger.LogInformation("Hinted handoff gave {Count} writes meant for {Node}, no longer a member, to their primaries", Interlocked.Read(ref _replayed) - before, departed);
        }
    }

    private async ValueTask<bool> MergeAsync(Hint hint, CancellationToken stopping)
    {
        await _local.MergeAsync(hint.Key, hint.Object, stopping);
        return true;
    }

    /// <summary>One hint sent as a replica put (a typed key's: a replica delta); true when the replica stored it.</summary>
    private async Task<bool> SendAsync(IPeerClient client, Hint hint, CancellationToken stopping)
    {
        try
        {
            IPeerPayload message = hint.EncodedDelta is { } delta ? new ReplicaDelta(hint.Key, delta) : new ReplicaPut(hint.Key, hint.Object.Encode());
            PeerResponse response = await client.SendAsync(message, _requestTimeout, stopping);
            return response.Read<ReplicaPutAck>().Status == ReplicaPutStatus.Stored;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException and not OperationCanceledException)
        {
            _logger.LogDebug("Hint of {Key} to a replica failed: {Reason}", KeyText.Format(hint.Key), exception.Message);
            return false;
        }
    }

    private async Task<bool> DeliverAsync(IPeerClient client, Hint hint, CancellationToken stopping)
    {
        try
        {
            if (!await SendAsync(client, hint, stopping))
            {
                return false;
            }

            if (await _hints.RemoveIfUnchangedAsync(hint, stopping))
            {
                Interlocked.Increment(ref _replayed);
                    Metrics?.HintsReplayedCounter.Add(1);
            }

            return true;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            _logger.LogDebug("Hint replay of {Key} to {Node} failed: {Reason}", KeyText.Format(hint.Key), hint.IntendedFor, exception.Message);
            return false;
        }
    }

    private static async Task<bool> AllSucceededAsync(List<Task<bool>> sends)
    {
        bool[] results = await Task.WhenAll(sends);
        return Array.TrueForAll(results, static delivered => delivered);
    }
}
