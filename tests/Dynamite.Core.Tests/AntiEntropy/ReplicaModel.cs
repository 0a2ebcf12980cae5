using System.Text;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Versioning;

namespace Dynamite.Core.Tests.AntiEntropy;

/// <summary>
/// One replica as anti-entropy sees it: objects by key, and one Merkle tree per partition kept up to date on
/// every put, as the runtime will keep it. The dictionary stands in for the storage engine's segment scan.
/// </summary>
internal sealed class ReplicaModel
{
    private readonly KeyPartitioner _partitioner;

    /// <summary>Invariant: every tree holds exactly the XOR of the digests in <see cref="_digests"/> of its keys.</summary>
    private readonly PartitionMerkleTree[] _trees;

    private readonly Dictionary<string, VersionedObject> _objects = new(StringComparer.Ordinal);

    private readonly Dictionary<string, ulong> _digests = new(StringComparer.Ordinal);

    /// <summary>Keys by (partition, segment), built on first listing; null whenever a put or forget changed the keys.</summary>
    private Dictionary<(int Partition, int Segment), List<SegmentKey>>? _segmentIndex;

    public ReplicaModel(int partitionBits, int segmentCount = PartitionMerkleTree.DefaultSegmentCount, int fanOut = PartitionMerkleTree.DefaultFanOut)
    {
        _partitioner = new KeyPartitioner(partitionBits);
        _trees = new PartitionMerkleTree[_partitioner.PartitionCount];
        for (int i = 0; i < _trees.Length; i++)
        {
            _trees[i] = new PartitionMerkleTree(partitionBits, segmentCount, fanOut);
        }
    }

    public int PartitionCount => _trees.Length;

    public IReadOnlyDictionary<string, VersionedObject> Objects => _objects;

    public PartitionMerkleTree Tree(int partition) => _trees[partition];

    public VersionedObject Get(string key) => _objects.GetValueOrDefault(key) ?? VersionedObject.Empty;

    public void Put(string key, VersionedObject value)
    {
        byte[] keyBytes = Encoding.UTF8.GetBytes(key);
        ulong keyHash = KeyPartitioner.HashKey(keyBytes);
        ulong digest = PartitionMerkleTree.KeyDigest(keyBytes, value.Encode());
        _trees[_partitioner.PartitionOfHash(keyHash).Value].Apply(keyHash, _digests.GetValueOrDefault(key), digest);
        _digests[key] = digest;
        _objects[key] = value;
        _segmentIndex = null;
    }

    /// <summary>Forgets a key entirely, as a replica that never received its write.</summary>
    public void Forget(string key)
    {
        byte[] keyBytes = Encoding.UTF8.GetBytes(key);
        ulong keyHash = KeyPartitioner.HashKey(keyBytes);
        if (_digests.Remove(key, out ulong digest))
        {
            _trees[_partitioner.PartitionOfHash(keyHash).Value].Apply(keyHash, digest, 0);
            _objects.Remove(key);
            _segmentIndex = null;
        }
    }

    /// <summary>What a replica answers to a SegmentKeysRequest: the keys of one segment with their digests.</summary>
    public List<SegmentKey> SegmentKeys(int partition, int segment)
    {
        if (_segmentIndex is null)
        {
            _segmentIndex = [];
            foreach ((string key, ulong digest) in _digests)
            {
                byte[] keyBytes = Encoding.UTF8.GetBytes(key);
                ulong keyHash = KeyPartitioner.HashKey(keyBytes);
                int keyPartition = _partitioner.PartitionOfHash(keyHash).Value;
                var slot = (keyPartition, _trees[keyPartition].SegmentOf(keyHash));
                if (!_segmentIndex.TryGetValue(slot, out List<SegmentKey>? list))
                {
                    list = [];
                    _segmentIndex[slot] = list;
                }

                list.Add(new SegmentKey(keyBytes, digest));
            }
        }

        return _segmentIndex.TryGetValue((partition, segment), out List<SegmentKey>? keys) ? keys : [];
    }
}
