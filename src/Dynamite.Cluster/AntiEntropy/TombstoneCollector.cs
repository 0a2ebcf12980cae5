using System.Collections.Immutable;
using Dynamite.Cluster.Coordination;
using Dynamite.Cluster.Metrics;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.AntiEntropy;

/// <summary>
/// Removes tombstones once every replica holds them (<see cref="TombstoneCollection"/>). One collector per
/// partition, the first primary of its preference list, so two nodes never race over the same keys. A pass
/// over a partition:
/// <list type="number">
/// <item>lists the local tombstone-only objects older than the grace period, with their key digests;</item>
/// <item>asks every other primary for the digest of those keys (<see cref="TombstoneDigestRequest"/>); every
/// primary must be reachable and answer, else the pass stops;</item>
/// <item>keeps the keys for which every primary holds the identical digest, and tells every other primary,
/// then itself, to delete each of them only if its stored object still has that digest
/// (<see cref="CollectTombstones"/>, <see cref="ReplicaStore.DeleteTombstoneIfDigestAsync"/>).</item>
/// </list>
/// A replica that misses the instruction keeps its tombstone; the next exchange copies it back to the others
/// (harmless) and the next pass collects it again. A tombstone is removed only where it is exactly the
/// object every replica confirmed, so no replica is left holding an older value that an exchange could
/// spread: a deleted key cannot come back. Writes still in flight or parked as hints are what the grace
/// period covers.
/// Thread-safety: passes are run by the anti-entropy scheduler under its partition gate; <see cref="ApplyAsync"/>
/// (the replica side) is safe from any thread, each delete being one atomic engine operation.
/// </summary>
public sealed class TombstoneCollector
{
    /// <summary>Keys per digest request and per collect instruction: bounds the frame size and the time a replica spends on one.</summary>
    public const int BatchSize = 256;

    private readonly ReplicaStore _store;
    private readonly IClusterTopology _topology;
    private readonly NodeDescriptor _self;
    private readonly int _replicationFactor;
    private readonly long _graceMs;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;

    public TombstoneCollector(
        ReplicaStore store,
        IClusterTopology topology,
        NodeDescriptor self,
        int replicationFactor,
        TimeSpan grace,
        TimeSpan requestTimeout,
        TimeProvider clock,
        ILogger<TombstoneCollector> logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(grace, TimeSpan.Zero);
        _store = store;
        _topology = topology;
        _self = self;
        _replicationFactor = replicationFactor;
        _graceMs = (long)grace.TotalMilliseconds;
        _requestTimeout = requestTimeout;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>Where tombstones this node removes from its own store (as collector or on a collector's instruction) are counted; null: not counted.</summary>
    public ClusterMetrics? Metrics { get; init; }

    /// <summary>Lets a pass skip a partition not written since it was found free of tombstones; null: every pass scans.</summary>
    public PartitionWriteGenerations? WriteGenerations { get; init; }

    /// <summary>One collection pass over <paramref name="partition"/> if this node is its collector; returns the tombstones removed here.</summary>
    /// <exception cref="PeerUnavailableException">A primary could not be reached (also timeouts and remote errors): the next pass retries.</exception>
    public async Task<int> CollectAsync(PartitionMap map, PartitionId partition, TimeSpan spacing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(map);
        ImmutableArray<NodeId> primaries = PreferenceListBuilder.PrimariesOf(map, partition, _self.Datacenter, _replicationFactor);
        if (primaries.IsEmpty || primaries[0] != _self.Id)
        {
            return 0;
        }

        List<SegmentKey> candidates = Candidates(partition);
        if (candidates.Count == 0)
        {
            return 0;
        }

        var peers = new List<(NodeId Node, IPeerClient Client)>();
        foreach (NodeId primary in primaries)
        {
            if (primary == _self.Id)
            {
                continue;
            }

            // Every replica must confirm: one we cannot ask might hold the old value.
            if (!_topology.IsReachable(primary) || _topology.ClientFor(primary) is not { } client)
            {
                return 0;
            }

            peers.Add((primary, client));
        }

        int removed = 0;
        foreach (SegmentKey[] batch in candidates.Chunk(BatchSize))
        {
            removed += await CollectBatchAsync(partition, primaries, peers, batch, cancellationToken);
            await Task.Delay(spacing, _clock, cancellationToken);
        }

        if (removed > 0)
        {
            _logger.LogInformation("Collected {Count} tombstones of partition {Partition}", removed, partition);
        }

        return removed;
    }

    /// <summary>The replica side of <see cref="CollectTombstones"/>: removes each key whose stored object still has the given digest.</summary>
    public async Task<int> ApplyAsync(IReadOnlyList<SegmentKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        int removed = 0;
        foreach (SegmentKey entry in keys)
        {
            removed += await _store.DeleteTombstoneIfDigestAsync(entry.Key, entry.Digest, cancellationToken) ? 1 : 0;
        }

        Metrics?.TombstonesCollectedCounter.Add(removed);
        return removed;
    }

    /// <summary>The reply to a <see cref="TombstoneDigestRequest"/>: each key's digest here, 0 when absent.</summary>
    public TombstoneDigestReply DigestsOf(IReadOnlyList<byte[]> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var digests = new ulong[keys.Count];
        for (int i = 0; i < keys.Count; i++)
        {
            digests[i] = _store.Engine.TryRead(keys[i], now, out StoredRecord record) ? PartitionMerkleTree.KeyDigest(keys[i], record.Value) : 0;
        }

        return new TombstoneDigestReply(digests);
    }

    /// <summary>Local tombstone-only objects past the grace period (judged as if this node were the only replica; the peers are asked next).</summary>
    private List<SegmentKey> Candidates(PartitionId partition)
    {
        var candidates = new List<SegmentKey>();
        if (WriteGenerations is { } generations && !generations.MayHoldTombstones(partition))
        {
            return candidates;
        }

        // Read before the scan: a write during it counts as after it, so the partition is not marked clean past it.
        long generation = WriteGenerations?.Current(partition) ?? 0;
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        NodeId[] selfOnly = [_self.Id];
        bool sawTombstone = false;
        foreach (StoredEntry entry in _store.Engine.ReadPartition(partition, now))
        {
            if (entry.Record.IsTypedHeader)
            {
                // A typed key is no versioned object: its removed elements live in its context, not in tombstones.
                continue;
            }

            VersionedObject stored = ReplicaStore.Decode(entry.Key, entry.Record.Value);
            ulong digest = PartitionMerkleTree.KeyDigest(entry.Key, entry.Record.Value);
            var confirmed = new Dictionary<NodeId, ulong> { [_self.Id] = digest };
            TombstoneCollectionDecision decision = TombstoneCollection.Decide(stored, digest, selfOnly, confirmed, now, _graceMs);
            sawTombstone |= decision != TombstoneCollectionDecision.NotATombstone;
            if (decision == TombstoneCollectionDecision.Collect)
            {
                candidates.Add(new SegmentKey(entry.Key, digest));
            }
        }

        if (!sawTombstone)
        {
            WriteGenerations?.MarkClean(partition, generation);
        }

        return candidates;
    }

    private async Task<int> CollectBatchAsync(
        PartitionId partition,
        ImmutableArray<NodeId> primaries,
        List<(NodeId Node, IPeerClient Client)> peers,
        SegmentKey[] batch,
        CancellationToken cancellationToken)
    {
        byte[][] keys = batch.Select(k => k.Key).ToArray();
        var remoteDigests = new List<(NodeId Node, IReadOnlyList<ulong> Digests)>(peers.Count);
        foreach ((NodeId node, IPeerClient client) in peers)
        {
            PeerResponse response = await client.SendAsync(new TombstoneDigestRequest(partition, keys), _requestTimeout, cancellationToken);
            TombstoneDigestReply reply = response.Read<TombstoneDigestReply>();
            if (reply.Digests.Count != keys.Length)
            {
                throw new Core.Peer.PeerProtocolException($"{node} answered {reply.Digests.Count} digests for {keys.Length} keys");
            }

            remoteDigests.Add((node, reply.Digests));
        }

        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var collect = new List<SegmentKey>();
        for (int i = 0; i < batch.Length; i++)
        {
            // Judge what is stored now, not what the scan saw: a write since then changes the digest.
            if (!_store.Engine.TryRead(batch[i].Key, now, out StoredRecord record) || record.IsTypedHeader)
            {
                continue;
            }

            ulong digest = PartitionMerkleTree.KeyDigest(batch[i].Key, record.Value);
            var confirmed = new Dictionary<NodeId, ulong> { [_self.Id] = digest };
            foreach ((NodeId node, IReadOnlyList<ulong> digests) in remoteDigests)
            {
                confirmed[node] = digests[i];
            }

            VersionedObject stored = ReplicaStore.Decode(batch[i].Key, record.Value);
            if (TombstoneCollection.Decide(stored, digest, primaries, confirmed, now, _graceMs) == TombstoneCollectionDecision.Collect)
            {
                collect.Add(new SegmentKey(batch[i].Key, digest));
            }
        }

        if (collect.Count == 0)
        {
            return 0;
        }

        foreach ((NodeId node, IPeerClient client) in peers)
        {
            PeerResponse response = await client.SendAsync(new CollectTombstones(partition, collect), _requestTimeout, cancellationToken);
            int removedThere = response.Read<CollectTombstonesAck>().Removed;
            _logger.LogDebug("{Peer} removed {Removed} of {Count} tombstones of partition {Partition}", node, removedThere, collect.Count, partition);
        }

        return await ApplyAsync(collect, cancellationToken);
    }
}
