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

    /// <summary>Element bytes per message when a typed key is sent in pages: a quarter of a peer message, leaving room for each element's context.</summary>
    private const int WholeKeyPageBytes = Core.Peer.PeerLimits.MaxObjectBytes / 4;

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
    /// changed. A typed key travels whole (<see cref="KeyDelta.WholeKey"/>, or in pages when it is larger than one
    /// message: <see cref="TypedKeyReplica.ReadWholeKeyInPages"/>), each side joining the other's as it joins a delta; a
    /// string against a typed key is written over it, and each side's type rule keeps the later of the two.
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
        bool localIsTyped = false;
        try
        {
            local = _store.Read(key) ?? VersionedObject.Empty;
        }
        catch (TypedKeyException)
        {
            local = VersionedObject.Empty;
            localIsTyped = true;
        }

        bool changed = false;
        if (reply.Status == ReplicaGetStatus.Typed && !pushOnly)
        {
            changed |= await PullWholeKeyAsync(client, key, cancellationToken);
        }

        if (localIsTyped)
        {
            changed |= await PushWholeKeyAsync(client, key, cancellationToken);
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
    /// Sends this replica's typed key to the peer, whole or in the pages <see cref="TypedKeyReplica.ReadWholeKeyInPages"/>
    /// reads, in order, stopping at the first that fails (a later page must not arrive without the earlier ones).
    /// </summary>
    private async Task<bool> PushWholeKeyAsync(IPeerClient client, byte[] key, CancellationToken cancellationToken)
    {
        bool changed = false;
        foreach (KeyDelta page in _store.TypedKeys.ReadWholeKeyInPages(key, WholeKeyPageBytes))
        {
            byte[] encoded = page.Encode();
            if (encoded.Length > Core.Peer.PeerLimits.MaxObjectBytes)
            {
                // One element's writes beyond a peer message (concurrent writes of two values near the size limit): its
                // deltas and hints still reach the peer; this transfer stops before any page that depends on it.
                _logger.LogWarning("Anti-entropy cannot send key {Key}: a page of {Bytes} bytes exceeds the peer message limit", KeyText.Format(key), encoded.Length);
                break;
            }

            PeerResponse joined = await client.SendAsync(new ReplicaDelta(key, encoded), _requestTimeout, cancellationToken);
            changed |= joined.Read<ReplicaPutAck>().Status == ReplicaPutStatus.Stored;
        }

        return changed;
    }

    /// <summary>
    /// Joins the peer's typed key into this replica, read in pages of its elements: one whole-key join when it has one
    /// page; else every page joined as its elements alone, then every page again joined with the header's context and
    /// an observed remove limited to its names (the order <see cref="TypedKeyReplica.ReadWholeKeyInPages"/> explains),
    /// all under the header the peer read before its first page. False when the peer no longer holds a typed key.
    /// </summary>
    private async Task<bool> PullWholeKeyAsync(IPeerClient client, byte[] key, CancellationToken cancellationToken)
    {
        (KeyHeader Header, ReplicaElements Page)? first = await ReadRemotePageAsync(client, key, null, cancellationToken);
        if (first is not { } start)
        {
            return false;
        }

        KeyHeader header = start.Header;
        if (!start.Page.HasMore || start.Page.Elements.Count == 0)
        {
            return await _store.TypedKeys.JoinAsync(key, KeyDelta.WholeKey(header, start.Page.Elements), cancellationToken);
        }

        bool changed = await _store.TypedKeys.JoinAsync(key, KeyDelta.ElementsOnly(header, start.Page.Elements), cancellationToken);
        for (byte[]? after = start.Page.Elements[^1].Key; after is not null;)
        {
            if (await ReadRemotePageAsync(client, key, after, cancellationToken) is not { } next)
            {
                return changed;
            }

            changed |= await _store.TypedKeys.JoinAsync(key, KeyDelta.ElementsOnly(header, next.Page.Elements), cancellationToken);
            after = ResumeAfter(next.Page);
        }

        byte[]? previous = null;
        byte[]? resume = null;
        do
        {
            if (await ReadRemotePageAsync(client, key, resume, cancellationToken) is not { } next)
            {
                return changed;
            }

            resume = ResumeAfter(next.Page);
            byte[]? through = resume;
            changed |= await _store.TypedKeys.JoinAsync(key, KeyDelta.WholeKeyPage(header, next.Page.Elements, new ElementRange(previous, through)), cancellationToken);
            previous = through;
        }
        while (resume is not null);

        return changed;
    }

    /// <summary>Where the peer's next page starts: after this page's last element, or null at the key's end.</summary>
    private static byte[]? ResumeAfter(ReplicaElements page) => page.HasMore && page.Elements.Count > 0 ? page.Elements[^1].Key : null;

    /// <summary>One page of the peer's typed key after <paramref name="after"/>, with the header it read first; null when it holds no typed key there.</summary>
    private async Task<(KeyHeader Header, ReplicaElements Page)?> ReadRemotePageAsync(IPeerClient client, byte[] key, byte[]? after, CancellationToken cancellationToken)
    {
        byte[] selection = ElementSelection.Page(after, ElementSelection.MaxElements).Encode();
        PeerResponse response = await client.SendAsync(new ReplicaReadElements(key, selection), _requestTimeout, cancellationToken);
        ReplicaElements page = ReplicaElements.Decode(response.Read<ReplicaReadElementsReply>().EncodedElements.Span);
        return page.Kind == StoredKeyKind.Typed ? (TypedKeyRecord.Decode(page.Record).Header, page) : null;
    }
}
