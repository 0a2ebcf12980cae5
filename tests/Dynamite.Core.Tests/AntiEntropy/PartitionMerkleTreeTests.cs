using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using Dynamite.Core.AntiEntropy;
using FsCheck.Xunit;
using Xunit;
using Xunit.Abstractions;

namespace Dynamite.Core.Tests.AntiEntropy;

public sealed class PartitionMerkleTreeTests
{
    private readonly ITestOutputHelper _output;

    public PartitionMerkleTreeTests(ITestOutputHelper output) => _output = output;

    [Property(MaxTest = 300)]
    public bool Apply_SameEntriesInAnyOrder_SameRoot(ulong[] keyHashes, ulong[] digests, ulong orderSeed)
    {
        int count = Math.Min(keyHashes.Length, digests.Length);
        var inOrder = new PartitionMerkleTree(8, 64, 4);
        var shuffled = new PartitionMerkleTree(8, 64, 4);
        var order = new ulong[count];
        var indices = new int[count];
        for (int i = 0; i < count; i++)
        {
            inOrder.Apply(keyHashes[i], 0, digests[i]);
            order[i] = Hash(orderSeed ^ (ulong)i);
            indices[i] = i;
        }

        Array.Sort(order, indices);
        foreach (int i in indices)
        {
            shuffled.Apply(keyHashes[i], 0, digests[i]);
        }

        return inOrder.Root == shuffled.Root && inOrder.GetLevel(inOrder.LeafLevel, 0, 64).SequenceEqual(shuffled.GetLevel(shuffled.LeafLevel, 0, 64));
    }

    [Property(MaxTest = 300)]
    public bool Apply_InsertThenRemoveEverything_EmptyRoot(ulong[] keyHashes, ulong[] digests)
    {
        var tree = new PartitionMerkleTree(4, 256, 16);
        int count = Math.Min(keyHashes.Length, digests.Length);
        for (int i = 0; i < count; i++)
        {
            tree.Apply(keyHashes[i], 0, digests[i]);
        }

        _ = tree.Root;
        for (int i = count - 1; i >= 0; i--)
        {
            tree.Apply(keyHashes[i], digests[i], 0);
        }

        return tree.Root == 0 && tree.Root == new PartitionMerkleTree(4, 256, 16).Root;
    }

    [Fact]
    public void Apply_UpdateOfOneKey_EqualsTreeBuiltWithTheNewDigest()
    {
        var updated = new PartitionMerkleTree(8);
        var direct = new PartitionMerkleTree(8);
        for (ulong i = 0; i < 1000; i++)
        {
            updated.Apply(Hash(i), 0, Hash(i + 5000));
            direct.Apply(Hash(i), 0, i == 17 ? 99UL : Hash(i + 5000));
        }

        _ = updated.Root;
        updated.Apply(Hash(17), Hash(17 + 5000), 99);

        Assert.NotEqual(0UL, direct.Root);
        Assert.Equal(direct.Root, updated.Root);
    }

    [Fact]
    public void Apply_OneKey_ChangesOnlyItsSegmentAndAncestors()
    {
        var tree = new PartitionMerkleTree(8, 1024, 16);
        ulong keyHash = 0x00AB_CDEF_0123_4567UL;
        tree.Apply(keyHash, 0, 42);

        int segment = tree.SegmentOf(keyHash);
        Assert.Equal(0x2AF, segment); // the 10 bits after the top 8: 0xABC >> 2
        ulong[] leaves = tree.GetLevel(tree.LeafLevel, 0, tree.SegmentCount);
        Assert.Equal(42UL, leaves[segment]);
        Assert.Equal(1, leaves.Count(h => h != 0));
        Assert.Equal(new[] { 1, 4, 64, 1024 }, Enumerable.Range(0, tree.LevelCount).Select(tree.LevelSize));
        for (int level = 0; level < tree.LevelCount; level++)
        {
            ulong[] row = tree.GetLevel(level, 0, tree.LevelSize(level));
            Assert.Equal(1, row.Count(h => h != 0));
            Assert.NotEqual(0UL, row[segment >> (4 * (tree.LeafLevel - level))]);
        }
    }

    [Fact]
    public void SegmentOf_ConsecutiveHashes_AreContiguousSubRangesOfThePartition()
    {
        var tree = new PartitionMerkleTree(8, 1024, 16);
        ulong partitionStart = 0x37UL << 56;
        ulong segmentWidth = 1UL << (64 - 8 - 10);
        Assert.Equal(0, tree.SegmentOf(partitionStart));
        Assert.Equal(0, tree.SegmentOf(partitionStart + segmentWidth - 1));
        Assert.Equal(1, tree.SegmentOf(partitionStart + segmentWidth));
        Assert.Equal(1023, tree.SegmentOf(partitionStart + (1UL << 56) - 1));
    }

    [Fact]
    public void KeyDigest_LongKeyOrDifferentVersion_DiffersAndIsNeverZero()
    {
        byte[] longKey = new byte[1000];
        ulong a = PartitionMerkleTree.KeyDigest(longKey, "v1"u8);
        ulong b = PartitionMerkleTree.KeyDigest(longKey, "v2"u8);
        ulong c = PartitionMerkleTree.KeyDigest("k"u8, "v1"u8);
        Assert.NotEqual(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(a, PartitionMerkleTree.KeyDigest(longKey, PartitionMerkleTree.VersionDigest("v1"u8)));
        Assert.All(new[] { a, b, c }, d => Assert.NotEqual(0UL, d));
    }

    [Fact]
    public void Write_ThenRead_RoundTrips()
    {
        PartitionMerkleTree tree = Filled(new PartitionMerkleTree(8, 1024, 32), 5000);
        byte[] bytes = Serialize(tree);
        Assert.Equal(tree.SerializedLength, bytes.Length);

        PartitionMerkleTree read = PartitionMerkleTree.Read(bytes);

        Assert.Equal((8, 1024, 32), (read.PartitionBits, read.SegmentCount, read.FanOut));
        Assert.Equal(tree.Root, read.Root);
        for (int level = 0; level < tree.LevelCount; level++)
        {
            Assert.Equal(tree.GetLevel(level, 0, tree.LevelSize(level)), read.GetLevel(level, 0, read.LevelSize(level)));
        }

        // The read tree keeps working incrementally.
        tree.Apply(Hash(1), Hash(1 + 1_000_000), 0);
        read.Apply(Hash(1), Hash(1 + 1_000_000), 0);
        Assert.Equal(tree.Root, read.Root);
    }

    [Fact]
    public void TryRead_AnyFlippedByte_IsDetected()
    {
        byte[] bytes = Serialize(Filled(new PartitionMerkleTree(8, 64, 4), 300));
        for (int position = 0; position < bytes.Length; position++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                byte[] corrupt = (byte[])bytes.Clone();
                corrupt[position] ^= (byte)(1 << bit);
                Assert.False(PartitionMerkleTree.TryRead(corrupt, out _), $"flipping bit {bit} of byte {position} went unnoticed");
            }
        }
    }

    [Fact]
    public void TryRead_TruncatedOrWrongVersionOrBadShape_IsRefused()
    {
        byte[] bytes = Serialize(Filled(new PartitionMerkleTree(8, 64, 4), 300));
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.False(PartitionMerkleTree.TryRead(bytes.AsSpan(0, length), out _));
        }

        byte[] wrongVersion = (byte[])bytes.Clone();
        wrongVersion[0] = 2;
        Assert.Throws<FormatException>(() => PartitionMerkleTree.Read(wrongVersion));

        // A shape that the checksum vouches for but the constructor refuses (65 segments).
        byte[] badShape = (byte[])bytes.Clone();
        BinaryPrimitives.WriteInt32BigEndian(badShape.AsSpan(2), 65);
        BinaryPrimitives.WriteUInt64LittleEndian(badShape.AsSpan(badShape.Length - 8), XxHash64.HashToUInt64(badShape.AsSpan(0, badShape.Length - 8)));
        var exception = Assert.Throws<FormatException>(() => PartitionMerkleTree.Read(badShape));
        Assert.Contains("shape", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Clear_FilledTree_EqualsAnEmptyTree()
    {
        PartitionMerkleTree tree = Filled(new PartitionMerkleTree(8), 1000);
        Assert.NotEqual(0UL, tree.Root);
        tree.Clear();
        Assert.Equal(0UL, tree.Root);
        Assert.All(tree.GetLevel(tree.LeafLevel, 0, tree.SegmentCount), h => Assert.Equal(0UL, h));
    }

    [Theory]
    [InlineData(1, 16)]
    [InlineData(1000, 16)]
    [InlineData(1024, 1)]
    [InlineData(1024, 3)]
    [InlineData(1 << 17, 16)]
    public void Constructor_SegmentsOrFanOutNotAPowerOfTwoInRange_Throws(int segments, int fanOut)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PartitionMerkleTree(8, segments, fanOut));
    }

    [Fact]
    public void ApproximateBytes_TreesOfAMillionKeys_ReportedAndUnder64MiB()
    {
        // Q = 8 (the default): 256 partitions, one tree each, 1,000,000 keys spread over them.
        const int Partitions = 256;
        const int Keys = 1_000_000;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var trees = new PartitionMerkleTree[Partitions];
        for (int i = 0; i < Partitions; i++)
        {
            trees[i] = new PartitionMerkleTree(8);
        }

        long allocatedForTrees = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        long applyBefore = GC.GetAllocatedBytesForCurrentThread();
        for (ulong i = 0; i < Keys; i++)
        {
            ulong keyHash = Hash(i);
            trees[(int)(keyHash >> 56)].Apply(keyHash, 0, Hash(i + Keys));
        }

        foreach (PartitionMerkleTree tree in trees)
        {
            _ = tree.Root;
        }

        long allocatedByApplies = GC.GetAllocatedBytesForCurrentThread() - applyBefore;
        long perTree = trees[0].ApproximateBytes;
        long total = trees.Sum(t => t.ApproximateBytes);
        _output.WriteLine(
            $"Merkle trees: {trees[0].SegmentCount} segments, fan-out {trees[0].FanOut}, {trees[0].LevelCount} levels; "
            + $"{perTree:N0} bytes per tree (estimate), {total:N0} bytes = {total / 1048576.0:F2} MiB for {Partitions} trees "
            + $"holding {Keys:N0} keys (measured allocation {allocatedForTrees:N0} bytes; {allocatedByApplies:N0} bytes allocated by {Keys:N0} applies and the rehash)");

        Assert.True(total < 64L * 1024 * 1024, $"{total} bytes");
        Assert.True(allocatedForTrees < 64L * 1024 * 1024, $"{allocatedForTrees} bytes");
        Assert.True(allocatedByApplies < 64 * 1024, $"applies allocated {allocatedByApplies} bytes: memory must not grow with keys");
    }

    internal static ulong Hash(ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return XxHash64.HashToUInt64(bytes);
    }

    private static PartitionMerkleTree Filled(PartitionMerkleTree tree, int keys)
    {
        for (ulong i = 0; i < (ulong)keys; i++)
        {
            tree.Apply(Hash(i), 0, Hash(i + 1_000_000));
        }

        return tree;
    }

    private static byte[] Serialize(PartitionMerkleTree tree)
    {
        var writer = new ArrayBufferWriter<byte>();
        tree.Write(writer);
        return writer.WrittenSpan.ToArray();
    }
}
