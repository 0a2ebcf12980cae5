using System.Text;
using Dynamite.Core.AntiEntropy;
using Xunit;

namespace Dynamite.Core.Tests.AntiEntropy;

public sealed class SegmentDiffTests
{
    [Fact]
    public void Compute_MixedListings_ClassifiesEveryKey()
    {
        SegmentKey[] local = [Entry("c", 3), Entry("a", 1), Entry("b", 2), Entry("e", 5)];
        SegmentKey[] remote = [Entry("b", 2), Entry("d", 4), Entry("a", 9), Entry("f", 6)];

        SegmentDiff diff = SegmentDiff.Compute(local, remote);

        Assert.Equal(["d", "f"], Names(diff.MissingLocally));
        Assert.Equal(["c", "e"], Names(diff.MissingRemotely));
        Assert.Equal(["a"], Names(diff.Different));
        Assert.Equal(["a", "c", "d", "e", "f"], Names(diff.KeysToRepair));
        Assert.Equal(5, diff.Count);
    }

    [Fact]
    public void Compute_EqualListingsInAnyOrder_IsEmpty()
    {
        SegmentDiff diff = SegmentDiff.Compute([Entry("x", 1), Entry("y", 2)], [Entry("y", 2), Entry("x", 1)]);
        Assert.True(diff.IsEmpty);
        Assert.Empty(diff.KeysToRepair);
    }

    [Fact]
    public void Compute_OneSideEmpty_EveryKeyMissingOnIt()
    {
        SegmentDiff diff = SegmentDiff.Compute([], [Entry("x", 1), Entry("", 2)]);
        Assert.Equal(["", "x"], Names(diff.MissingLocally));
        Assert.Empty(diff.MissingRemotely);
    }

    [Fact]
    public void Compute_KeyListedTwice_Throws()
    {
        Assert.Throws<ArgumentException>(() => SegmentDiff.Compute([Entry("x", 1), Entry("x", 1)], []));
    }

    private static SegmentKey Entry(string key, ulong digest) => new(Encoding.UTF8.GetBytes(key), digest);

    private static string[] Names(IReadOnlyList<byte[]> keys) => keys.Select(k => Encoding.UTF8.GetString(k)).ToArray();
}
