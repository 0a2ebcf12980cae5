using System.Runtime.CompilerServices;
using Dynamite.Cluster.Metrics;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer.Messages;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// Replays hints (Dynamo §4.6): about once a second, and as soon as the failure detector sees a peer come
/// back, every hint kept for a reachable peer is sent to it as a replica put (which merges, so a replay twice
/// is harmless) and removed only once acknowledged and unchanged. A failure stops that peer's replay until
/// the next round; nothing is dropped.
/// </summary>
public sealed class HintedHandoff : IAsyncDisposable
{
    private const int BatchSize = 256;
    private const int ParallelSends = 32;
    private static readonly TimeSpan RoundInterval = TimeSpan.FromSeconds(1);

    private readonly HintStore _hints;
    private readonly IClusterTopology _topology;
    private readonly TimeSpan _requestTimeout;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _wakeUp = new(0, 1);
    private Task? _running;

    public HintedHandoff(HintStore hints, IClusterTopology topology, TimeSpan requestTimeout, ILogger<HintedHandoff> logger)
    {
        _hints = hints;
        _topology = topology;
        _requestTimeout = requestTimeout;
        _logger = logger;
    }

    /// <summary>Where hints delivered and removed are counted (<see cref="ClusterMetrics.HintsReplayed"/>); null: not counted.</summary>
    public ClusterMetrics? Metrics { get; init; }

    public HintStore Hints => _hints;

    public void Start() => _running = RunAsync(_stopping.Token);

    /// <summary>Starts a round now (a peer came back).</summary>
    public void Wake()
    {
        if (_wakeUp.CurrentCount == 0)
        {
            try
            {
                _wakeUp.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another caller woke the loop first; one round is enough.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_running is not null)
        {
            try
            {
                await _running;
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stopping.Dispose();
        _wakeUp.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await _wakeUp.WaitAsync(RoundInterval, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            foreach (NodeId node in _hints.CountsByNode().Keys)
            {
                if (_topology.IsReachable(node) && _topology.ClientFor(node) is { } client)
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
    }

    private async Task ReplayAsync(NodeId node, IPeerClient client, CancellationToken stopping)
    {
        var delivered = new StrongBox<long>();
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
                sends.Add(DeliverAsync(client, hint, delivered, stopping));
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

        if (delivered.Value > 0)
        {
            _logger.LogInformation("Hinted handoff delivered {Count} writes to {Node}", delivered.Value, node);
        }
    }

    private async Task<bool> DeliverAsync(IPeerClient client, Hint hint, StrongBox<long> delivered, CancellationToken stopping)
    {
        try
        {
            PeerResponse response = await client.SendAsync(new ReplicaPut(hint.Key, hint.Object.Encode()), _requestTimeout, stopping);
            if (response.Read<ReplicaPutAck>().Status != ReplicaPutStatus.Stored)
            {
                return false;
            }

            if (await _hints.RemoveIfUnchangedAsync(hint, stopping))
            {
                Interlocked.Increment(ref delivered.Value);
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
