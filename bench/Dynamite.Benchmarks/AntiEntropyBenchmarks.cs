using BenchmarkDotNet.Attributes;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Versioning;

namespace Dynamite.Benchmarks;

/// <summary>
/// The Merkle work every replica write does (AntiEntropyTrees): the key's digest, then one leaf update of its
/// partition's tree; and reading the root afterwards, which rehashes the dirty path.
/// </summary>
// Not sealed: BenchmarkDotNet emits a type deriving from each benchmark class.
public class AntiEntropyBenchmarks
{
    private const int PartitionBits = 8;

    private readonly PartitionMerkleTree _tree = new(PartitionBits);
    private readonly byte[] _key = BenchmarkData.Key(42);
    private byte[] _encodedObject = null!;
    private ulong _keyHash;
    private ulong _held;
    private ulong _other;

    [GlobalSetup]
    public void Setup()
    {
        _encodedObject = VersionedObject.Empty.Update(VersionVector.Empty, new NodeId("n1"), BenchmarkData.Value(), BenchmarkData.NowUnixMs, 0).Encode();
        _keyHash = KeyPartitioner.HashKey(_key);
        _held = PartitionMerkleTree.KeyDigest(_key, _encodedObject);
        _other = _held ^ 0x9E3779B97F4A7C15;
        _tree.Apply(_keyHash, 0, _held);
    }

    [Benchmark]
    public ulong KeyDigest() => PartitionMerkleTree.KeyDigest(_key, _encodedObject);

    /// <summary>Alternates the key between two versions, so Apply never takes its no-change shortcut.</summary>
    [Benchmark]
    public void Apply() => Toggle();

    [Benchmark]
    public ulong ApplyThenRoot()
    {
        Toggle();
        return _tree.Root;
    }

    private void Toggle()
    {
        _tree.Apply(_keyHash, _held, _other);
        (_held, _other) = (_other, _held);
    }
}
