using Dynamite.Cluster.Replication;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage;

namespace Dynamite.Cluster.AntiEntropy;

/// <summary>
/// This node's Merkle trees, one per partition (<see cref="PartitionMerkleTree"/>), kept in step with the
/// replica store: every committed change XORs the key's old digest out of its segment and the new one in,
/// so an update costs O(1). Built from the engine when the node starts (a scan of every partition) rather
/// than persisted, so a tree can never be stale after a crash; a partition whose tree has drifted (writes
/// that bypass the store, such as the expiry sweep removing a record) is rebuilt when an exchange finds
/// differing segments whose keys do not differ.
/// Thread-safety: each tree is guarded by its own lock; rebuilding swaps in a new tree.
/// </summary>
public sealed class AntiEntropyTrees : IReplicaWriteListener
{
    private readonly PartitionMerkleTree[] _trees;
    private readonly object[] _locks;
    private readonly KeyPartitioner _partitioner;

    public AntiEntropyTrees(KeyPartitioner partitioner)
    {
        _partitioner = partitioner;
        _trees = new PartitionMerkleTree[partitioner.PartitionCount];
        _locks = new object[partitioner.PartitionCount];
        for (int i = 0; i < _trees.Length; i++)
        {
            _trees[i] = new PartitionMerkleTree(partitioner.PartitionBits, SegmentCount, FanOut);
            _locks[i] = new object();
        }
    }

    public int PartitionCount => _trees.Length;

    /// <summary>Segments of every tree (all trees have one shape, which rebuilding keeps).</summary>
    public int SegmentCount => PartitionMerkleTree.DefaultSegmentCount;

    /// <summary>Fan-out of every tree.</summary>
    public int FanOut => PartitionMerkleTree.DefaultFanOut;

    /// <summary>The root of each of <paramref name="partitions"/>, in order, each read under its tree's lock.</summary>
    public ulong[] Roots(IReadOnlyList<PartitionId> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        var roots = new ulong[partitions.Count];
        for (int i = 0; i < roots.Length; i++)
        {
            int partition = partitions[i].Value;
            lock (_locks[partition])
            {
                roots[i] = _trees[partition].Root;
            }
        }

        return roots;
    }

    /// <summary>Memory the trees take (they hold hashes only: independent of the number of keys).</summary>
    public long ApproximateBytes
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _trees.Length; i++)
            {
                lock (_locks[i])
                {
                    total += _trees[i].ApproximateBytes;
                }
            }

            return total;
        }
    }

    public void OnWritten(byte[] key, byte[]? previousEncoded, byte[] writtenEncoded) => Replace(key, previousEncoded, writtenEncoded);

    /// <summary>A typed key's digest is its record's (header, count, element digest), as a string's is its object's: the same bookkeeping.</summary>
    public void OnTypedKeyWritten(byte[] key, byte[]? previousRecord, byte[]? writtenRecord) => Replace(key, previousRecord, writtenRecord);

    /// <summary>XORs the old digest out: a removed key contributes nothing, exactly as on a replica that never had it.</summary>
    public void OnRemoved(byte[] key, byte[] previousEncoded) => Replace(key, previousEncoded, null);

    /// <summary>Swaps the key's digest of <paramref name="previous"/> for that of <paramref name="written"/> (null: none) in its partition's tree.</summary>
    private void Replace(byte[] key, byte[]? previous, byte[]? written)
    {
        ulong keyHash = KeyPartitioner.HashKey(key);
        int partition = _partitioner.PartitionOfHash(keyHash).Value;
        ulong before = previous is null ? 0 : PartitionMerkleTree.KeyDigest(key, previous);
        ulong after = written is null ? 0 : PartitionMerkleTree.KeyDigest(key, written);
        lock (_locks[partition])
        {
            _trees[partition].Apply(keyHash, before, after);
        }
    }

    /// <summary>Runs <paramref name="action"/> with partition <paramref name="partition"/>'s tree, under its lock.</summary>
    public T With<T>(PartitionId partition, Func<PartitionMerkleTree, T> action)
    {
        lock (_locks[partition.Value])
        {
            return action(_trees[partition.Value]);
        }
    }

    /// <summary>Rebuilds every partition's tree from the engine (at start).</summary>
    public void RebuildAll(IStorageEngine engine, long nowUnixMs)
    {
        for (int p = 0; p < _trees.Length; p++)
        {
            Rebuild(engine, new PartitionId(p), nowUnixMs);
        }
    }

    /// <summary>Rebuilds one partition's tree from the engine's live records and swaps it in.</summary>
    public void Rebuild(IStorageEngine engine, PartitionId partition, long nowUnixMs)
    {
        var tree = new PartitionMerkleTree(_partitioner.PartitionBits, SegmentCount, FanOut);
        foreach (StoredEntry entry in engine.ReadPartition(partition, nowUnixMs))
        {
            // A typed key's digest is its record's: equal records (header, count, element digest) hold equal elements.
            tree.Apply(KeyPartitioner.HashKey(entry.Key), 0, PartitionMerkleTree.KeyDigest(entry.Key, entry.Record.Value));
        }

        lock (_locks[partition.Value])
        {
            _trees[partition.Value] = tree;
        }
    }

    /// <summary>The keys of one segment of a partition with their digests, read from the engine (what is really stored).</summary>
    public List<SegmentKey> SegmentKeys(IStorageEngine engine, PartitionId partition, int segment, long nowUnixMs) =>
        SegmentKeys(engine, partition, [segment], nowUnixMs)[segment];

    /// <summary>
    /// The keys of several segments of a partition with their digests, in one pass over the partition: an
    /// exchange that finds many differing segments (a wiped replica: all of them) must not read the partition
    /// once per segment.
    /// </summary>
    public Dictionary<int, List<SegmentKey>> SegmentKeys(IStorageEngine engine, PartitionId partition, IReadOnlyCollection<int> segments, long nowUnixMs)
    {
        var bySegment = new Dictionary<int, List<SegmentKey>>(segments.Count);
        if (segments.Count == 0)
        {
            // Trees that agree (every exchange of an idle cluster) need no keys: do not read the partition.
            return bySegment;
        }

        foreach (int segment in segments)
        {
            bySegment[segment] = [];
        }

        PartitionMerkleTree shape = _trees[partition.Value];
        foreach (StoredEntry entry in engine.ReadPartition(partition, nowUnixMs))
        {
            if (bySegment.TryGetValue(shape.SegmentOf(KeyPartitioner.HashKey(entry.Key)), out List<SegmentKey>? keys))
            {
                keys.Add(new SegmentKey(entry.Key, PartitionMerkleTree.KeyDigest(entry.Key, entry.Record.Value)));
            }
        }

        return bySegment;
    }
}
