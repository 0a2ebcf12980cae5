using System.Collections.Concurrent;
using Dynamite.Cluster.Coordination;
using Dynamite.Cluster.Metrics;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Runtime;
using Dynamite.Cluster.Transport;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.AntiEntropy;

/// <summary>
/// Active anti-entropy (Dynamo §4.7): every <c>interval</c> a round first asks each other reachable node, in one
/// request (<see cref="MerkleRootComparison"/>; a few for a very large ring), for the Merkle roots of every
/// partition both are primaries of; then, for every partition whose roots differ, it exchanges its Merkle tree
/// with that peer (the core's <see cref="MerkleExchange"/> descends only into differing branches), lists the keys
/// of the differing segments on both sides, and repairs each differing key by merging both copies and writing the
/// merge wherever it is missing. Keys nobody reads converge this way; an idle cluster's round costs one round trip
/// per peer. A peer that cannot compare roots (an older version, an error) gets every shared partition exchanged,
/// as before the comparison existed. Exchanges run one at a time, at most <see cref="MaxExchangesPerSecond"/>, so
/// foreground requests keep most of the node.
/// Thread-safety: exchanges of one partition at a time (background rounds and on-demand repairs share one
/// gate, taken per partition, so a repair asked for by an operator waits for one partition, not a round).
/// </summary>
public sealed class AntiEntropyService : IAsyncDisposable
{
    /// <summary>Upper bound on exchange starts per second (the rate limit).</summary>
    public const int MaxExchangesPerSecond = 100;

    private readonly AntiEntropyTrees _trees;
    private readonly ReplicaStore _store;
    private readonly IClusterTopology _topology;
    private readonly NodeDescriptor _self;
    private readonly int _replicationFactor;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly TombstoneCollector? _collector;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly BackgroundWorker _worker;
    private readonly ConcurrentDictionary<int, PartitionExchangeStatus> _partitions = new();

    public AntiEntropyService(
        AntiEntropyTrees trees,
        ReplicaStore store,
        IClusterTopology topology,
        NodeDescriptor self,
        int replicationFactor,
        TimeSpan interval,
        TimeSpan requestTimeout,
        TimeProvider clock,
        ILogger<AntiEntropyService> logger,
        TombstoneCollector? collector = null)
    {
        _trees = trees;
        _store = store;
        _topology = topology;
        _self = self;
        _replicationFactor = replicationFactor;
        _interval = interval;
        _requestTimeout = requestTimeout;
        _clock = clock;
        _logger = logger;
        _collector = collector;
        _worker = new BackgroundWorker("anti-entropy", interval, RoundAsync, clock, logger);
    }

    public AntiEntropyTrees Trees => _trees;

    /// <summary>Where rounds, keys repaired and bytes exchanged are counted; null: not counted.</summary>
    public ClusterMetrics? Metrics { get; init; }

    /// <summary>Per partition: the last exchange and the keys it repaired.</summary>
    public IReadOnlyDictionary<int, PartitionExchangeStatus> Partitions => _partitions;

    public void Start() => _worker.Start();

    /// <summary>Runs exchanges now for one partition or all, reporting each finished partition; the admin API's repair.</summary>
    public Task<IReadOnlyList<ExchangeResult>> RepairNowAsync(PartitionId? only, Action<int, int>? progress, CancellationToken cancellationToken) =>
        RunRoundAsync(only, progress, collect: false, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _worker.DisposeAsync();
        _gate.Dispose();
    }

    private async Task RoundAsync(CancellationToken stopping)
    {
        IReadOnlyList<ExchangeResult> results = await RunRoundAsync(null, null, collect: true, stopping);
        Metrics?.AntiEntropyRoundsCounter.Add(1);
        long repaired = results.Sum(r => r.KeysRepaired);
        if (repaired > 0)
        {
            _logger.LogInformation("Anti-entropy round: {Exchanges} exchanges repaired {Keys} keys", results.Count, repaired);
        }
    }

    private async Task<IReadOnlyList<ExchangeResult>> RunRoundAsync(PartitionId? only, Action<int, int>? progress, bool collect, CancellationToken cancellationToken)
    {
        var results = new List<ExchangeResult>();
        PartitionMap? map = _topology.Map;
        if (map is null)
        {
            return results;
        }

        TimeSpan spacing = TimeSpan.FromSeconds(1.0 / MaxExchangesPerSecond);
        int first = only?.Value ?? 0;
        int last = only?.Value ?? (map.PartitionCount - 1);
        Dictionary<NodeId, HashSet<int>?> differing = await CompareRootsAsync(map, first, last, cancellationToken);
        for (int p = first; p <= last; p++)
        {
            var partition = new PartitionId(p);
            await _gate.WaitAsync(cancellationToken);
            try
            {
                // Only a primary exchanges a partition, with each other reachable primary whose root differs.
                var primaries = PreferenceListBuilder.PrimariesOf(map, partition, _self.Datacenter, _replicationFactor);
                foreach (NodeId peer in primaries.Contains(_self.Id) ? primaries : [])
                {
                    if (peer == _self.Id || !_topology.IsReachable(peer))
                    {
                        continue;
                    }

                    if (differing.TryGetValue(peer, out HashSet<int>? differs) && differs is not null && !differs.Contains(p))
                    {
                        continue;
                    }

                    ExchangeResult result = await ExchangeAsync(partition, peer, cancellationToken);
                    results.Add(result);
                    await Task.Delay(spacing, _clock, cancellationToken);
                }

                if (collect && _collector is not null)
                {
                    await CollectTombstonesAsync(map, partition, spacing, cancellationToken);
                }
            }
            finally
            {
                _gate.Release();
            }

            progress?.Invoke(p - first + 1, last - first + 1);
        }

        return results;
    }

    /// <summary>
    /// The partitions in [<paramref name="first"/>, <paramref name="last"/>] whose Merkle roots differ, per peer that
    /// shares any of them with this node as a primary: one <see cref="MerkleRootsRequest"/> per peer (per batch).
    /// A null set means the comparison failed (the peer cannot answer it, or any other error): exchange every shared
    /// partition with that peer, whose own failures then report themselves as before.
    /// </summary>
    private async Task<Dictionary<NodeId, HashSet<int>?>> CompareRootsAsync(PartitionMap map, int first, int last, CancellationToken cancellationToken)
    {
        var shared = new Dictionary<NodeId, List<PartitionId>>();
        for (int p = first; p <= last; p++)
        {
            var partition = new PartitionId(p);
            var primaries = PreferenceListBuilder.PrimariesOf(map, partition, _self.Datacenter, _replicationFactor);
            if (!primaries.Contains(_self.Id))
            {
                continue;
            }

            foreach (NodeId peer in primaries)
            {
                if (peer != _self.Id)
                {
                    (shared.TryGetValue(peer, out List<PartitionId>? partitions) ? partitions : shared[peer] = []).Add(partition);
                }
            }
        }

        var differing = new Dictionary<NodeId, HashSet<int>?>(shared.Count);
        foreach ((NodeId peer, List<PartitionId> partitions) in shared)
        {
            if (!_topology.IsReachable(peer) || _topology.ClientFor(peer) is not { } client)
            {
                continue;
            }

            var differs = new HashSet<int>();
            try
            {
                foreach (MerkleRootsRequest request in MerkleRootComparison.Requests(partitions, _trees.SegmentCount, _trees.FanOut))
                {
                    PeerResponse response = await client.SendAsync(request, _requestTimeout, cancellationToken);
                    MerkleRootsReply reply = response.Read<MerkleRootsReply>();
                    Metrics?.AntiEntropyExchangedCounter.Add((2 * Core.Peer.PeerFrameCodec.HeaderBytes) + request.PayloadLength + reply.PayloadLength);

                    // Local roots read now, after the reply, as an exchange reads its tree at reply time.
                    foreach (PartitionId partition in MerkleRootComparison.Differing(request, _trees.Roots(request.Partitions), reply))
                    {
                        differs.Add(partition.Value);
                    }
                }

                differing[peer] = differs;
            }
            catch (Exception exception) when (exception is PeerUnavailableException or TimeoutException or PeerRemoteException or Core.Peer.PeerProtocolException or FormatException)
            {
                _logger.LogDebug("Comparing Merkle roots with {Peer} failed ({Reason}); exchanging all {Count} shared partitions", peer, exception.Message, partitions.Count);
                differing[peer] = null;
            }
        }

        return differing;
    }

    /// <summary>A background round's tombstone pass over one partition, right after its exchanges (which spread the tombstones it needs confirmed).</summary>
    private async Task CollectTombstonesAsync(PartitionMap map, PartitionId partition, TimeSpan spacing, CancellationToken cancellationToken)
    {
        try
        {
            await _collector!.CollectAsync(map, partition, spacing, cancellationToken);
        }
        catch (Exception exception) when (exception is PeerUnavailableException or TimeoutException or PeerRemoteException or Core.Peer.PeerProtocolException or FormatException)
        {
            _logger.LogDebug("Tombstone collection in partition {Partition} stopped: {Reason}; the next round retries", partition, exception.Message);
        }
    }

    /// <summary>
    /// One exchange of one partition with one peer, and the repair of every key it finds differing: both copies
    /// merged and written on both sides, or with <paramref name="pushOnly"/> on the peer's side only (a node handing a
    /// partition it no longer replicates to the partition's primaries takes nothing back).
    /// </summary>
    public async Task<ExchangeResult> ExchangeAsync(PartitionId partition, NodeId peer, CancellationToken cancellationToken, bool pushOnly = false)
    {
        IPeerClient? client = _topology.ClientFor(peer);
        if (client is null)
        {
            return ExchangeResult.Failure(partition, peer, "no connection");
        }

        try
        {
            var exchange = _trees.With(partition, tree => new MerkleExchange(partition, tree));
            MerkleExchangeStep step = _trees.With(partition, _ => exchange.Start());
            var queue = new Queue<MerkleLevelRequest>(step.Requests);
            while (queue.Count > 0)
            {
                MerkleLevelRequest request = queue.Dequeue();
                PeerResponse response = await client.SendAsync(request, _requestTimeout, cancellationToken);
                MerkleLevelReply reply = response.Read<MerkleLevelReply>();
                step = _trees.With(partition, _ => exchange.OnRemoteNodes(request.Level, request.FromIndex, reply.Hashes.Span));
                foreach (MerkleLevelRequest next in step.Requests)
                {
                    queue.Enqueue(next);
                }
            }

            if (exchange.IsFailed || !exchange.IsDone)
            {
                return ExchangeResult.Failure(partition, peer, "the peer's tree answers did not match the requests");
            }

            long now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            int repaired = 0;
            bool drifted = false;
            IReadOnlyList<SegmentKeysRequest> segmentRequests = exchange.SegmentRequests();
            Dictionary<int, List<SegmentKey>> localBySegment = _trees.SegmentKeys(_store.Engine, partition, [.. segmentRequests.Select(r => r.Segment)], now);
            foreach (SegmentKeysRequest segmentRequest in segmentRequests)
            {
                PeerResponse response = await client.SendAsync(segmentRequest, _requestTimeout, cancellationToken);
                SegmentKeysReply remote = response.Read<SegmentKeysReply>();
                exchange.CountSegmentKeys(segmentRequest, remote);
                SegmentDiff diff = SegmentDiff.Compute(localBySegment[segmentRequest.Segment], remote.Keys);
                drifted |= diff.IsEmpty;
                foreach (byte[] key in diff.KeysToRepair)
                {
                    repaired += await RepairKeyAsync(client, partition, key, pushOnly, cancellationToken) ? 1 : 0;
                }
            }

            if (drifted)
            {
                // A segment hash differed though its keys did not: this tree (or the peer's) drifted from the data.
                _trees.Rebuild(_store.Engine, partition, now);
            }

            Metrics?.AntiEntropyKeysRepairedCounter.Add(repaired);
            Metrics?.AntiEntropyExchangedCounter.Add(exchange.TotalBytes);
            _partitions.AddOrUpdate(
                partition.Value,
                _ => new PartitionExchangeStatus(now, peer.Value, repaired, repaired),
                (_, old) => new PartitionExchangeStatus(now, peer.Value, repaired, old.TotalKeysRepaired + repaired));
            return new ExchangeResult(partition, peer, exchange.DifferingSegments.Count, repaired, exchange.TotalBytes, null);
        }
        catch (Exception exception) when (exception is PeerUnavailableException or TimeoutException or PeerRemoteException or Core.Peer.PeerProtocolException or FormatException)
        {
            _logger.LogDebug("Anti-entropy exchange of partition {Partition} with {Peer} failed: {Reason}", partition, peer, exception.Message);
            return ExchangeResult.Failure(partition, peer, exception.Message);
        }
    }

    /// <summary>
    /// Merges both copies of <paramref name="key"/> and writes the merge wherever it adds something. True if either side
    /// changed. A typed key travels whole (<see cref="KeyDelta.WholeKey"/>), each side joining the other's as it joins a
    /// delta; a string against a typed key is written over it, and each side's type rule keeps the later of the two.
    /// </summary>
    private async Task<bool> RepairKeyAsync(IPeerClient client, PartitionId partition, byte[] key, bool pushOnly, CancellationToken cancellationToken)
    {
        PeerResponse response = await client.SendAsync(new ReplicaGet(key, partition), _requestTimeout, cancellationToken);
        ReplicaGetReply reply = response.Read<ReplicaGetReply>();
        if (reply.Status == ReplicaGetStatus.Error)
        {
            // The peer could not read its copy (it is warming up, say): this exchange proves nothing about the key.
            throw new PeerUnavailableException($"the peer could not read key {KeyText.Format(key)}");
        }

        VersionedObject remote = reply.Status == ReplicaGetStatus.Found ? VersionedObject.Decode(reply.EncodedObject.Span) : VersionedObject.Empty;
        VersionedObject local;
        KeyDelta? localTyped = null;
        try
        {
            local = _store.Read(key) ?? VersionedObject.Empty;
        }
        catch (TypedKeyException)
        {
            local = VersionedObject.Empty;
            localTyped = _store.TypedKeys.ReadWholeKey(key);
        }

        bool changed = false;
        if (reply.Status == ReplicaGetStatus.Typed && !pushOnly && await ReadWholeKeyAsync(client, key, cancellationToken) is { } remoteTyped)
        {
            changed |= await _store.TypedKeys.JoinAsync(key, remoteTyped, cancellationToken);
        }

        if (localTyped?.Encode() is { } encoded)
        {
            if (encoded.Length > Core.Peer.PeerLimits.MaxObjectBytes)
            {
                // Larger than one peer message: its deltas and hints still reach the peer; the whole key cannot (yet).
                _logger.LogWarning("Anti-entropy cannot send key {Key} whole: {Bytes} bytes exceed the peer message limit", KeyText.Format(key), encoded.Length);
            }
            else
            {
                PeerResponse joined = await client.SendAsync(new ReplicaDelta(key, encoded), _requestTimeout, cancellationToken);
                changed |= joined.Read<ReplicaPutAck>().Status == ReplicaPutStatus.Stored;
            }
        }

        if (local.IsEmpty && remote.IsEmpty)
        {
            return changed;
        }

        VersionedObject merged = local.Merge(remote);
        if (!pushOnly && !merged.Equals(local))
        {
            await _store.MergeAsync(key, merged, cancellationToken);
            changed = true;
        }

        if (!merged.Equals(remote))
        {
            PeerResponse ack = await client.SendAsync(new ReplicaPut(key, merged.Encode()), _requestTimeout, cancellationToken);
            changed |= ack.Read<ReplicaPutAck>().Status == ReplicaPutStatus.Stored;
        }

        return changed;
    }

    /// <summary>
    /// The peer's whole typed key, read in pages of its elements (the header taken from the first page, as
    /// <see cref="TypedKeyReplica.ReadWholeKey"/> reads its own); null when the peer no longer holds one there.
    /// </summary>
    private async Task<KeyDelta?> ReadWholeKeyAsync(IPeerClient client, byte[] key, CancellationToken cancellationToken)
    {
        KeyHeader? header = null;
        var elements = new List<KeyValuePair<byte[], ElementState>>();
        byte[]? after = null;
        do
        {
            byte[] selection = ElementSelection.Page(after, ElementSelection.MaxElements).Encode();
            PeerResponse response = await client.SendAsync(new ReplicaReadElements(key, selection), _requestTimeout, cancellationToken);
            ReplicaElements page = ReplicaElements.Decode(response.Read<ReplicaReadElementsReply>().EncodedElements.Span);
            if (page.Kind != StoredKeyKind.Typed)
            {
                return null;
            }

            header ??= TypedKeyRecord.Decode(page.Record).Header;
            elements.AddRange(page.Elements);
            after = page.HasMore && page.Elements.Count > 0 ? page.Elements[^1].Key : null;
            if (elements.Count > KeyDelta.MaxElements)
            {
                return null;
            }
        }
        while (after is not null);

        return KeyDelta.WholeKey(header, elements);
    }
}
