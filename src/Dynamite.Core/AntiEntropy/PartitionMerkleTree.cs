using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using System.Numerics;
using Dynamite.Core.Partitioning;

namespace Dynamite.Core.AntiEntropy;

/// <summary>
/// The anti-entropy hash tree of one partition on one replica: Dynamo §4.7 ("Handling permanent failures:
/// replica synchronization", DeCandia et al., SOSP 2007) with Riak's hashtree.erl layout (fixed segments,
/// a wide fan-out, lazily rehashed inner levels) and Cassandra's MerkleTree idea of leaves as contiguous
/// token sub-ranges. Two replicas compare roots; only when they differ do they descend, and only into
/// children that differ, so identical replicas exchange one hash per partition.
/// <code>
///  level 0  (root)                          [ R ]                       R = H(n0 ‖ n1 ‖ n2 ‖ n3)
///                            ┌───────────┬────┴──────┬───────────┐
///  level 1               [ n0 ]      [ n1 ]      [ n2 ]      [ n3 ]       nᵢ = H(16 children)
///                      ┌───┴─ … ─┐
///  level 2           [m0] … [m15]  … 64 nodes                             fan-out F = 16
///                   ┌─┴─ … ─┐
///  level 3 (leaves) [s0] … [s15]  … 1024 segments                         sⱼ = ⊕ KeyDigest(k) over keys k in segment j
///
///  key hash (XXH64, 64 bits):  | partition: Q bits | segment: log2(S) bits | rest |
/// </code>
/// A segment is a contiguous sub-range of the partition's hash range: the key-hash bits just below the Q
/// partition bits. A segment's hash is the XOR of its keys' digests, so a write or delete updates its leaf in
/// O(1) without reading the other keys (<see cref="Apply"/>), and the tree stores hashes only, never keys:
/// its memory is O(segments), independent of the number of keys. Inner nodes are real hashes of their
/// children (XXH64), recomputed lazily when read after a change (dirty flags), so a burst of writes costs one
/// rehash per dirty node rather than one per write per level. A node whose children are all zero is zero, so
/// an empty partition has root 0 whatever its history.
/// <para>
/// The segment count also bounds the repair step: a differing segment is resolved by listing its keys on both
/// sides (<see cref="SegmentDiff"/>), about keys / (2^Q × S) of them.
/// </para>
/// <para>
/// Not thread-safe: reads rehash dirty nodes in place. The runtime serialises access per partition.
/// </para>
/// </summary>
public sealed class PartitionMerkleTree
{
    /// <summary>The leading byte of <see cref="Write"/>'s output; a new layout takes a new value.</summary>
    public const byte FormatVersion = 1;

    public const int DefaultSegmentCount = 1024;

    public const int DefaultFanOut = 16;

    /// <summary>2^16 segments: 512 KiB of leaves per partition, far beyond what a partition needs.</summary>
    public const int MaxSegmentCount = 1 << 16;

    /// <summary>Bounds the stack buffer an inner node is hashed from (256 × 8 bytes).</summary>
    public const int MaxFanOut = 256;

    /// <summary>Version byte, partition bits, segment count, fan-out.</summary>
    private const int HeaderBytes = 1 + 1 + 4 + 4;

    private const int ChecksumBytes = 8;

    /// <summary>
    /// Hashes per level, root first: <c>_levels[0].Length == 1</c>, the last level holds the segments, and each
    /// level has ceil(next / fan-out) nodes. Invariant: a clean inner node equals <see cref="HashChildren"/> of
    /// its children; leaves are always exact.
    /// </summary>
    private readonly ulong[][] _levels;

    /// <summary>
    /// One flag per inner node (<c>_dirty[l][i]</c> for level l &lt; leaf level). Invariant: a node is dirty
    /// when it may differ from the hash of its children, and every ancestor of a dirty node is dirty, so marking
    /// stops at the first ancestor already marked and a clean node's whole subtree is clean.
    /// </summary>
    private readonly bool[][] _dirty;

    private readonly int _segmentBits;

    private readonly int _fanOutBits;

    /// <param name="partitionBits">Q: the key-hash bits above the segment bits (0 = the tree covers the whole hash space).</param>
    /// <param name="segmentCount">Leaves: a power of two between 2 and <see cref="MaxSegmentCount"/>.</param>
    /// <param name="fanOut">Children per inner node: a power of two between 2 and <see cref="MaxFanOut"/>.</param>
    public PartitionMerkleTree(int partitionBits, int segmentCount = DefaultSegmentCount, int fanOut = DefaultFanOut)
    {
        if (partitionBits is < 0 or > KeyPartitioner.MaxPartitionBits)
        {
            throw new ArgumentOutOfRangeException(nameof(partitionBits), partitionBits, $"Q must be between 0 and {KeyPartitioner.MaxPartitionBits}.");
        }

        if (segmentCount < 2 || segmentCount > MaxSegmentCount || !BitOperations.IsPow2(segmentCount))
        {
            throw new ArgumentOutOfRangeException(nameof(segmentCount), segmentCount, $"The segment count must be a power of two between 2 and {MaxSegmentCount}.");
        }

        if (fanOut < 2 || fanOut > MaxFanOut || !BitOperations.IsPow2(fanOut))
        {
            throw new ArgumentOutOfRangeException(nameof(fanOut), fanOut, $"The fan-out must be a power of two between 2 and {MaxFanOut}.");
        }

        PartitionBits = partitionBits;
        SegmentCount = segmentCount;
        FanOut = fanOut;
        _segmentBits = BitOperations.Log2((uint)segmentCount);
        _fanOutBits = BitOperations.Log2((uint)fanOut);

        var sizes = new List<int> { segmentCount };
        while (sizes[^1] > 1)
        {
            sizes.Add((sizes[^1] + fanOut - 1) / fanOut);
        }

        sizes.Reverse();
        _levels = new ulong[sizes.Count][];
        _dirty = new bool[sizes.Count - 1][];
        for (int level = 0; level < sizes.Count; level++)
        {
            _levels[level] = new ulong[sizes[level]];
            if (level < sizes.Count - 1)
            {
                _dirty[level] = new bool[sizes[level]];
            }
        }
    }

    public int PartitionBits { get; }

    public int SegmentCount { get; }

    public int FanOut { get; }

    /// <summary>Levels including the root (level 0) and the segments (level <c>LevelCount - 1</c>).</summary>
    public int LevelCount => _levels.Length;

    public int LeafLevel => _levels.Length - 1;

    /// <summary>The hash of the whole partition; 0 when it holds no keys.</summary>
    public ulong Root => GetNode(0, 0);

    /// <summary>
    /// Heap bytes this tree holds: the hash and flag arrays plus object headers (estimated at 24 bytes for
    /// each array and the tree object). Independent of the number of keys.
    /// </summary>
    public long ApproximateBytes
    {
        get
        {
            const int ObjectOverhead = 24;
            long bytes = ObjectOverhead * (3 + _levels.Length + _dirty.Length);
            foreach (ulong[] level in _levels)
            {
                bytes += level.Length * sizeof(ulong);
            }

            foreach (bool[] flags in _dirty)
            {
                bytes += flags.Length;
            }

            return bytes + (8 * (_levels.Length + _dirty.Length));
        }
    }

    /// <summary>The bytes <see cref="Write"/> produces.</summary>
    public int SerializedLength => HeaderBytes + (SegmentCount * sizeof(ulong)) + ChecksumBytes;

    /// <summary>XXH64 of an object's canonical encoding (<see cref="Versioning.VersionedObject.Encode"/>): equal objects, equal digests.</summary>
    public static ulong VersionDigest(ReadOnlySpan<byte> encodedObject) => XxHash64.HashToUInt64(encodedObject);

    /// <summary>
    /// A key's contribution to its segment: XXH64(key ‖ version digest as 8 little-endian bytes). Never 0, so
    /// 0 can mean "absent" in <see cref="Apply"/> (the one hash in 2^64 that would be 0 is mapped to 1).
    /// </summary>
    public static ulong KeyDigest(ReadOnlySpan<byte> key, ReadOnlySpan<byte> encodedObject) =>
        KeyDigest(key, VersionDigest(encodedObject));

    /// <inheritdoc cref="KeyDigest(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>
    public static ulong KeyDigest(ReadOnlySpan<byte> key, ulong versionDigest)
    {
        // The digest has a fixed size and comes last, so "key ‖ digest" is unambiguous without a length prefix.
        const int StackLimit = 256;
        int length = key.Length + sizeof(ulong);
        byte[]? rented = length > StackLimit ? ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> buffer = rented is null ? stackalloc byte[StackLimit] : rented;
        try
        {
            key.CopyTo(buffer);
            BinaryPrimitives.WriteUInt64LittleEndian(buffer[key.Length..], versionDigest);
            ulong digest = XxHash64.HashToUInt64(buffer[..length]);
            return digest == 0 ? 1 : digest;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The segment of a key hash: the <c>log2(SegmentCount)</c> bits just below the partition bits.</summary>
    public int SegmentOf(ulong keyHash) => (int)((keyHash << PartitionBits) >> (64 - _segmentBits));

    /// <summary>
    /// Records one change of one key: <paramref name="oldKeyDigest"/> is what the tree holds for it (0 when the
    /// key was absent), <paramref name="newKeyDigest"/> what it holds now (0 when removed). O(1) at the leaf plus
    /// marking at most <see cref="LevelCount"/> - 1 ancestors dirty. The caller must pass the digest it applied
    /// last for the key; otherwise the tree drifts from the data and only a rebuild (or a repair) fixes it.
    /// </summary>
    public void Apply(ulong keyHash, ulong oldKeyDigest, ulong newKeyDigest)
    {
        if (oldKeyDigest == newKeyDigest)
        {
            return;
        }

        int segment = SegmentOf(keyHash);
        _levels[LeafLevel][segment] ^= oldKeyDigest ^ newKeyDigest;
        int index = segment;
        for (int level = LeafLevel - 1; level >= 0; level--)
        {
            index >>= _fanOutBits;
            if (_dirty[level][index])
            {
                break;
            }

            _dirty[level][index] = true;
        }
    }

    /// <summary>Forgets every key (before a rebuild from storage).</summary>
    public void Clear()
    {
        foreach (ulong[] level in _levels)
        {
            Array.Clear(level);
        }

        foreach (bool[] flags in _dirty)
        {
            Array.Clear(flags);
        }
    }

    public int LevelSize(int level)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(level, _levels.Length);
        return _levels[level].Length;
    }

    /// <summary>One node's hash, rehashing its dirty subtree first.</summary>
    public ulong GetNode(int level, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, LevelSize(level));
        return Clean(level, index);
    }

    /// <summary>Hashes of <paramref name="count"/> consecutive nodes of one level (what a remote replica asks for).</summary>
    public ulong[] GetLevel(int level, int fromIndex, int count)
    {
        var hashes = new ulong[count];
        CopyLevel(level, fromIndex, hashes);
        return hashes;
    }

    /// <summary>Copies <c>destination.Length</c> consecutive node hashes of one level, starting at <paramref name="fromIndex"/>.</summary>
    public void CopyLevel(int level, int fromIndex, Span<ulong> destination)
    {
        int size = LevelSize(level);
        if (fromIndex < 0 || fromIndex > size || destination.Length > size - fromIndex)
        {
            throw new ArgumentOutOfRangeException(nameof(fromIndex), $"nodes [{fromIndex}, {fromIndex + destination.Length}) are outside level {level}'s {size} nodes");
        }

        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = Clean(level, fromIndex + i);
        }
    }

    /// <summary>Where the children of a node are: a range of level <c>level + 1</c>.</summary>
    public (int FromIndex, int Count) ChildRange(int level, int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(level, LeafLevel);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, LevelSize(level));
        int from = index << _fanOutBits;
        return (from, Math.Min(FanOut, _levels[level + 1].Length - from));
    }

    /// <summary>The hashes of a node's children.</summary>
    public ulong[] GetChildren(int level, int index)
    {
        (int from, int count) = ChildRange(level, index);
        return GetLevel(level + 1, from, count);
    }

    /// <summary>
    /// Persists the leaves (inner levels are recomputed on load): version byte, partition bits, segment count
    /// and fan-out (big-endian), the segment hashes (little-endian), then XXH64 of all of that, so a torn or
    /// flipped file is detected and the caller rebuilds from storage instead of trusting a wrong tree.
    /// The checksum cannot tell a stale tree from a current one: a file is only as good as the moment it was
    /// written, so the runtime persists at a point no later write slips past (clean shutdown, or with the
    /// engine's sequence number) and otherwise rebuilds.
    /// </summary>
    public void Write(IBufferWriter<byte> writer)
    {
        Span<byte> span = writer.GetSpan(SerializedLength)[..SerializedLength];
        span[0] = FormatVersion;
        span[1] = (byte)PartitionBits;
        BinaryPrimitives.WriteInt32BigEndian(span[2..], SegmentCount);
        BinaryPrimitives.WriteInt32BigEndian(span[6..], FanOut);
        ulong[] leaves = _levels[LeafLevel];
        for (int i = 0; i < leaves.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span[(HeaderBytes + (i * sizeof(ulong)))..], leaves[i]);
        }

        int body = SerializedLength - ChecksumBytes;
        BinaryPrimitives.WriteUInt64LittleEndian(span[body..], XxHash64.HashToUInt64(span[..body]));
        writer.Advance(SerializedLength);
    }

    /// <summary>Decodes <see cref="Write"/>'s output; throws <see cref="FormatException"/> on a bad version, shape or checksum.</summary>
    public static PartitionMerkleTree Read(ReadOnlySpan<byte> data) =>
        TryRead(data, out PartitionMerkleTree? tree, out string? error) ? tree : throw new FormatException(error);

    /// <summary>False (never an exception) for anything <see cref="Write"/> did not produce: the caller rebuilds.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, [NotNullWhen(true)] out PartitionMerkleTree? tree) =>
        TryRead(data, out tree, out _);

    private static bool TryRead(ReadOnlySpan<byte> data, [NotNullWhen(true)] out PartitionMerkleTree? tree, [NotNullWhen(false)] out string? error)
    {
        tree = null;
        if (data.Length < HeaderBytes + ChecksumBytes)
        {
            error = $"a Merkle tree needs at least {HeaderBytes + ChecksumBytes} bytes, got {data.Length}";
            return false;
        }

        if (data[0] != FormatVersion)
        {
            error = $"unknown Merkle tree format version {data[0]}";
            return false;
        }

        int body = data.Length - ChecksumBytes;
        if (XxHash64.HashToUInt64(data[..body]) != BinaryPrimitives.ReadUInt64LittleEndian(data[body..]))
        {
            error = "Merkle tree checksum mismatch (corrupt or torn file)";
            return false;
        }

        int partitionBits = data[1];
        int segmentCount = BinaryPrimitives.ReadInt32BigEndian(data[2..]);
        int fanOut = BinaryPrimitives.ReadInt32BigEndian(data[6..]);
        bool shapeValid = partitionBits <= KeyPartitioner.MaxPartitionBits
            && segmentCount is >= 2 and <= MaxSegmentCount && BitOperations.IsPow2(segmentCount)
            && fanOut is >= 2 and <= MaxFanOut && BitOperations.IsPow2(fanOut);
        if (!shapeValid || body != HeaderBytes + (segmentCount * sizeof(ulong)))
        {
            error = $"Merkle tree shape is invalid (Q={partitionBits}, {segmentCount} segments, fan-out {fanOut}, {data.Length} bytes)";
            return false;
        }

        tree = new PartitionMerkleTree(partitionBits, segmentCount, fanOut);
        ulong[] leaves = tree._levels[tree.LeafLevel];
        for (int i = 0; i < segmentCount; i++)
        {
            leaves[i] = BinaryPrimitives.ReadUInt64LittleEndian(data[(HeaderBytes + (i * sizeof(ulong)))..]);
        }

        foreach (bool[] flags in tree._dirty)
        {
            Array.Fill(flags, true);
        }

        error = null;
        return true;
    }

    /// <summary>Rehashes a node if dirty (children first, recursively) and returns its hash.</summary>
    private ulong Clean(int level, int index)
    {
        if (level == LeafLevel || !_dirty[level][index])
        {
            return _levels[level][index];
        }

        (int from, int count) = ChildRange(level, index);
        Span<ulong> children = stackalloc ulong[count];
        for (int i = 0; i < count; i++)
        {
            children[i] = Clean(level + 1, from + i);
        }

        ulong hash = HashChildren(children);
        _levels[level][index] = hash;
        _dirty[level][index] = false;
        return hash;
    }

    /// <summary>XXH64 of the children's little-endian bytes; 0 when every child is 0 (an empty subtree).</summary>
    private static ulong HashChildren(ReadOnlySpan<ulong> children)
    {
        bool empty = true;
        Span<byte> bytes = stackalloc byte[children.Length * sizeof(ulong)];
        for (int i = 0; i < children.Length; i++)
        {
            empty &= children[i] == 0;
            BinaryPrimitives.WriteUInt64LittleEndian(bytes[(i * sizeof(ulong))..], children[i]);
        }

        return empty ? 0 : XxHash64.HashToUInt64(bytes);
    }
}
