using System.Buffers;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using FsCheck.Xunit;
using Xunit;

namespace Dynamite.Core.Tests.Versioning;

public sealed class VersionVectorTests
{
    private static readonly NodeId A = new("a");
    private static readonly NodeId B = new("b");
    private static readonly NodeId C = new("c");

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 500)]
    public bool Merge_AnyTwo_IsCommutative(VersionVector a, VersionVector b) => a.Merge(b).Equals(b.Merge(a));

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 500)]
    public bool Merge_AnyThree_IsAssociative(VersionVector a, VersionVector b, VersionVector c) =>
        a.Merge(b).Merge(c).Equals(a.Merge(b.Merge(c)));

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 500)]
    public bool Merge_WithACopyOfItself_IsIdempotent(VersionVector a) => a.Merge(RoundTrip(a)).Equals(a);

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 500)]
    public bool Merge_AnyTwo_DescendsBoth(VersionVector a, VersionVector b)
    {
        VersionVector merged = a.Merge(b);
        return merged.Descends(a) && merged.Descends(b);
    }

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 1000)]
    public bool Compare_AnyTwo_ConsistentWithMerge(VersionVector a, VersionVector b)
    {
        Causality causality = a.Compare(b);
        VersionVector merged = a.Merge(b);
        bool before = merged.Equals(b) && !a.Equals(b);
        bool after = merged.Equals(a) && !a.Equals(b);
        return (causality == Causality.Before) == before
            && (causality == Causality.After) == after
            && (causality == Causality.Equal) == a.Equals(b)
            && b.Compare(a) == Mirror(causality);
    }

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 500)]
    public bool Write_ThenRead_RoundTrips(VersionVector a)
    {
        var buffer = new ArrayBufferWriter<byte>();
        a.Write(buffer);
        buffer.Write<byte>([0xFF, 0xEE]);
        VersionVector read = VersionVector.Read(buffer.WrittenSpan, out int consumed);
        return read.Equals(a) && consumed == a.GetEncodedLength() && consumed == buffer.WrittenCount - 2;
    }

    [Fact]
    public void Increment_NewAndExistingNode_CountsAndStamps()
    {
        VersionVector v = VersionVector.Empty.Increment(B, 10).Increment(A, 20).Increment(B, 30);
        Assert.Equal(1, v.Get(A));
        Assert.Equal(2, v.Get(B));
        Assert.Equal(0, v.Get(C));
        Assert.Equal(30, v.TimestampOf(B));
        Assert.Equal([A, B], v.Entries.ToArray().Select(e => e.Node));
        Assert.True(v.Covers(new Dot(B, 2)));
        Assert.False(v.Covers(new Dot(B, 3)));
        Assert.Equal(Causality.After, v.Compare(VersionVector.Empty));
    }

    [Fact]
    public void Compare_DivergedIncrements_Concurrent()
    {
        VersionVector common = VersionVector.Empty.Increment(A, 1);
        VersionVector left = common.Increment(A, 2);
        VersionVector right = common.Increment(B, 2);
        Assert.Equal(Causality.Concurrent, left.Compare(right));
        Assert.False(left.Descends(right));
        Assert.True(left.Merge(right).Descends(left));
    }

    [Fact]
    public void Merge_EqualCounters_KeepsLaterTimestamp()
    {
        VersionVector x = VersionVector.FromEntries([new VersionVectorEntry(A, 3, 100)]);
        VersionVector y = VersionVector.FromEntries([new VersionVectorEntry(A, 3, 200)]);
        Assert.Equal(200, x.Merge(y).TimestampOf(A));
        Assert.Equal(200, y.Merge(x).TimestampOf(A));
    }

    [Fact]
    public void Prune_AtOrBelowSmallSize_KeepsEverything()
    {
        VersionVector v = Vector(("a", 1, 0), ("b", 1, 0), ("c", 1, 0));
        Assert.Same(v, v.Prune(smallSize: 3, bigSize: 1, youngMs: 0, oldMs: 0, nowUnixMs: 1_000_000));
    }

    [Fact]
    public void Prune_OverBigSize_DropsOldestUntilBig()
    {
        VersionVector v = Vector(("a", 1, 500), ("b", 1, 100), ("c", 1, 300), ("d", 1, 400));
        VersionVector pruned = v.Prune(smallSize: 1, bigSize: 2, youngMs: 10, oldMs: 1_000_000, nowUnixMs: 1000);
        Assert.Equal(["a", "d"], pruned.Entries.ToArray().Select(e => e.Node.Value));
    }

    [Fact]
    public void Prune_OldestYoungerThanYoung_KeepsEverything()
    {
        VersionVector v = Vector(("a", 1, 950), ("b", 1, 960), ("c", 1, 970));
        Assert.Same(v, v.Prune(smallSize: 1, bigSize: 1, youngMs: 100, oldMs: 0, nowUnixMs: 1000));
    }

    [Fact]
    public void Prune_OlderThanOld_DropsThoseDownToSmall()
    {
        VersionVector v = Vector(("a", 1, 0), ("b", 1, 10), ("c", 1, 900), ("d", 1, 20));
        VersionVector pruned = v.Prune(smallSize: 2, bigSize: 10, youngMs: 50, oldMs: 500, nowUnixMs: 1000);
        Assert.Equal(["c", "d"], pruned.Entries.ToArray().Select(e => e.Node.Value));
    }

    [Fact]
    public void FromEntries_DuplicateOrZeroCounter_Throws()
    {
        Assert.Throws<ArgumentException>(() => VersionVector.FromEntries([new(A, 1, 0), new(A, 2, 0)]));
        Assert.Throws<ArgumentException>(() => VersionVector.FromEntries([new(A, 0, 0)]));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x01 })]
    [InlineData(new byte[] { 0x01, 0x00 })]
    [InlineData(new byte[] { 0x01, 0x01, (byte)'a' })]
    [InlineData(new byte[] { 0x01, 0x01, (byte)'a', 0x00, 0x00 })]
    [InlineData(new byte[] { 0x01, 0x01, (byte)' ', 0x01, 0x00 })]
    [InlineData(new byte[] { 0x01, 0x01, 0xFF, 0x01, 0x00 })]
    [InlineData(new byte[] { 0x02, 0x01, (byte)'b', 0x01, 0x00, 0x01, (byte)'a', 0x01, 0x00 })]
    [InlineData(new byte[] { 0x80, 0x00 })]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    public void Read_Malformed_ThrowsFormatException(byte[] bytes)
    {
        Assert.Throws<FormatException>(() => VersionVector.Read(bytes, out _));
    }

    [Fact]
    public void ToString_ListsEntries()
    {
        Assert.Equal("[a:2@7, b:1@5]", Vector(("b", 1, 5), ("a", 2, 7)).ToString());
    }

    private static VersionVector Vector(params (string Node, long Counter, long Timestamp)[] entries) =>
        VersionVector.FromEntries(entries.Select(e => new VersionVectorEntry(new NodeId(e.Node), e.Counter, e.Timestamp)));

    private static VersionVector RoundTrip(VersionVector v)
    {
        var buffer = new ArrayBufferWriter<byte>();
        v.Write(buffer);
        return VersionVector.Read(buffer.WrittenSpan, out _);
    }

    private static Causality Mirror(Causality causality) => causality switch
    {
        Causality.Before => Causality.After,
        Causality.After => Causality.Before,
        _ => causality,
    };
}
