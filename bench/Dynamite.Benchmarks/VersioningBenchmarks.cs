using BenchmarkDotNet.Attributes;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;

namespace Dynamite.Benchmarks;

/// <summary>
/// Version vectors and dotted version vector sets, on every replica write and read: 3-entry vectors (N = 3),
/// objects with one sibling (the usual case under last-writer-wins) and two (a concurrent write).
/// </summary>
// Not sealed: BenchmarkDotNet emits a type deriving from each benchmark class.
public class VersioningBenchmarks
{
    private readonly NodeId _a = new("n1");
    private readonly NodeId _b = new("n2");
    private readonly NodeId _c = new("n3");
    private readonly byte[] _value = BenchmarkData.Value();
    private VersionVector _left = null!;
    private VersionVector _right = null!;
    private VersionedObject _one = null!;
    private VersionedObject _oneNewer = null!;
    private VersionedObject _concurrent = null!;
    private VersionedObject _two = null!;
    private byte[] _encodedOne = null!;
    private byte[] _encodedTwo = null!;

    [GlobalSetup]
    public void Setup()
    {
        const long Now = BenchmarkData.NowUnixMs;
        _left = VersionVector.FromEntries([new(_a, 3, Now), new(_b, 2, Now), new(_c, 1, Now)]);
        _right = VersionVector.FromEntries([new(_a, 2, Now), new(_b, 4, Now), new(_c, 1, Now)]);
        _one = VersionedObject.Empty.Update(VersionVector.Empty, _a, _value, Now, 0);
        _oneNewer = _one.Update(_one.Context, _a, BenchmarkData.Value((byte)'y'), Now + 1, 0);
        _concurrent = VersionedObject.Empty.Update(VersionVector.Empty, _b, BenchmarkData.Value((byte)'z'), Now + 2, 0);
        _two = _one.Merge(_concurrent);
        if (_two.Siblings.Length != 2)
        {
            throw new InvalidOperationException("the two-sibling fixture does not have two siblings");
        }

        _encodedOne = _one.Encode();
        _encodedTwo = _two.Encode();
    }

    [Benchmark]
    public VersionVector VectorMerge() => _left.Merge(_right);

    [Benchmark]
    public Causality VectorCompare() => _left.Compare(_right);

    /// <summary>A replica receiving a newer write of the key it holds: one sibling supersedes one.</summary>
    [Benchmark]
    public VersionedObject MergeOneSibling() => _one.Merge(_oneNewer);

    /// <summary>Two concurrent writes meeting: the result keeps both siblings.</summary>
    [Benchmark]
    public VersionedObject MergeTwoSiblings() => _one.Merge(_concurrent);

    [Benchmark]
    public VersionedObject UpdateOneSibling() => _one.Update(_one.Context, _a, _value, BenchmarkData.NowUnixMs + 3, 0);

    /// <summary>A write with the context of a two-sibling read: resolves both into one.</summary>
    [Benchmark]
    public VersionedObject UpdateTwoSiblings() => _two.Update(_two.Context, _a, _value, BenchmarkData.NowUnixMs + 3, 0);

    [Benchmark]
    public byte[] EncodeOneSibling() => _one.Encode();

    [Benchmark]
    public byte[] EncodeTwoSiblings() => _two.Encode();

    [Benchmark]
    public VersionedObject DecodeOneSibling() => VersionedObject.Decode(_encodedOne);

    [Benchmark]
    public VersionedObject DecodeTwoSiblings() => VersionedObject.Decode(_encodedTwo);
}
