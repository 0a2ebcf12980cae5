using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using FsCheck.Xunit;
using Xunit;

namespace Dynamite.Core.Tests.Versioning;

public sealed class VersionedObjectTests
{
    private static readonly NodeId A = new("a");
    private static readonly NodeId B = new("b");

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 500)]
    public bool Merge_ObjectsFromOneHistory_IsCommutative(ObjectTriple t) => t.A.Merge(t.B).Equals(t.B.Merge(t.A));

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 500)]
    public bool Merge_ObjectsFromOneHistory_IsAssociative(ObjectTriple t) =>
        t.A.Merge(t.B).Merge(t.C).Equals(t.A.Merge(t.B.Merge(t.C)));

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 500)]
    public bool Merge_WithACopyOfItself_IsIdempotent(ObjectTriple t) =>
        t.A.Merge(VersionedObject.Decode(t.A.Encode())).Equals(t.A);

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 500)]
    public bool Merge_ObjectsFromOneHistory_DescendsBoth(ObjectTriple t)
    {
        VersionedObject merged = t.A.Merge(t.B);
        return merged.Descends(t.A) && merged.Descends(t.B);
    }

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 500)]
    public bool ResolveLastWriterWins_EitherMergeOrder_SameWinner(ObjectTriple t) =>
        Equals(t.A.Merge(t.B).ResolveLastWriterWins(), t.B.Merge(t.A).ResolveLastWriterWins());

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 500)]
    public bool Encode_ThenDecode_RoundTrips(ObjectTriple t)
    {
        VersionedObject decoded = VersionedObject.Decode(t.C.Encode());
        return decoded.Equals(t.C) && decoded.GetHashCode() == t.C.GetHashCode();
    }

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 200)]
    public void Decode_EveryTruncation_ThrowsFormatException(ObjectTriple t)
    {
        byte[] encoded = t.C.Encode();
        for (int length = 0; length < encoded.Length; length++)
        {
            Assert.Throws<FormatException>(() => VersionedObject.Decode(encoded.AsSpan(0, length)));
        }
    }

    [Property(Arbitrary = [typeof(VersioningArbitraries)], MaxTest = 200)]
    public void Decode_SingleByteCorruption_DecodesOrThrowsFormatException(ObjectTriple t, byte mask, int position)
    {
        byte[] encoded = t.C.Encode();
        encoded[(int)((uint)position % (uint)encoded.Length)] ^= mask;
        AssertDecodesOrThrowsFormatException(encoded);
    }

    [Property(MaxTest = 1000)]
    public void Decode_RandomBytes_DecodesOrThrowsFormatException(byte[] bytes, bool withVersion)
    {
        byte[] input = withVersion ? [VersionedObject.FormatVersion, .. bytes] : bytes;
        AssertDecodesOrThrowsFormatException(input);
    }

    [Fact]
    public void Update_WithFullReadContext_LeavesOneSibling()
    {
        VersionedObject stored = VersionedObject.Empty
            .Update(VersionVector.Empty, A, Bytes("x"), 1, 0)
            .Merge(VersionedObject.Empty.Update(VersionVector.Empty, B, Bytes("y"), 2, 0));
        Assert.Equal(2, stored.Siblings.Length);

        VersionedObject written = stored.Update(stored.Context, A, Bytes("z"), 3, 0);

        Sibling only = Assert.Single(written.Siblings);
        Assert.Equal(new Dot(A, 2), only.Dot);
        Assert.Equal(Bytes("z"), only.Value);
        Assert.True(written.Context.Descends(stored.Context));
    }

    [Fact]
    public void Update_TwoWritesFromSameReadContext_LeaveTwoSiblings()
    {
        VersionedObject read = VersionedObject.Empty.Update(VersionVector.Empty, A, Bytes("v1"), 1, 0);
        VersionedObject first = read.Update(read.Context, A, Bytes("v2"), 2, 0);
        VersionedObject second = first.Update(read.Context, A, Bytes("v3"), 3, 0);

        Assert.Equal(2, second.Siblings.Length);
        Assert.Equal([new Dot(A, 2), new Dot(A, 3)], second.Siblings.Select(s => s.Dot));
        Assert.True(second.HasLiveValue);
    }

    [Fact]
    public void Update_ContextMissingASibling_KeepsIt()
    {
        VersionedObject fromB = VersionedObject.Empty.Update(VersionVector.Empty, B, Bytes("b"), 1, 0);
        VersionedObject onA = VersionedObject.Empty.Update(VersionVector.Empty, A, Bytes("a"), 2, 0).Merge(fromB);

        // The client only read A's value: B's sibling is concurrent with the write and stays.
        VersionVector readOnlyA = VersionVector.Empty.Increment(A, 2);
        VersionedObject written = onA.Update(readOnlyA, A, Bytes("a2"), 3, 0);

        Assert.Equal([new Dot(A, 2), new Dot(B, 1)], written.Siblings.Select(s => s.Dot));
        Assert.Equal(Bytes("b"), written.Siblings[1].Value);
    }

    [Fact]
    public void Update_Delete_LeavesTombstone()
    {
        VersionedObject stored = VersionedObject.Empty.Update(VersionVector.Empty, A, Bytes("x"), 1, 0);
        VersionedObject deleted = stored.Update(stored.Context, B, null, 2, 0);
        Assert.True(Assert.Single(deleted.Siblings).IsTombstone);
        Assert.False(deleted.HasLiveValue);
        Assert.False(deleted.IsEmpty);
    }

    [Fact]
    public void Merge_SupersededOnOneReplica_DropsTheOldSibling()
    {
        VersionedObject original = VersionedObject.Empty.Update(VersionVector.Empty, A, Bytes("old"), 1, 0);
        VersionedObject replicaB = original.Update(original.Context, B, Bytes("new"), 2, 0);

        VersionedObject merged = original.Merge(replicaB);

        Assert.Equal(Bytes("new"), Assert.Single(merged.Siblings).Value);
        Assert.True(merged.Descends(original));
        Assert.False(original.Descends(merged));
    }

    [Fact]
    public void ResolveLastWriterWins_TimestampTie_HighestNodeWins()
    {
        VersionedObject both = VersionedObject.Empty.Update(VersionVector.Empty, A, Bytes("a"), 5, 0)
            .Merge(VersionedObject.Empty.Update(VersionVector.Empty, B, Bytes("b"), 5, 0));
        Assert.Equal(B, both.ResolveLastWriterWins()!.Dot.Node);
        Assert.Null(VersionedObject.Empty.ResolveLastWriterWins());
    }

    [Fact]
    public void Create_SiblingNotCoveredByContext_Throws()
    {
        var sibling = new Sibling(new Dot(A, 2), Bytes("x"), 1, 0);
        Assert.Throws<ArgumentException>(() => VersionedObject.Create(VersionVector.Empty.Increment(A, 1), [sibling]));
    }

    [Fact]
    public void Decode_UnknownVersion_ThrowsFormatException()
    {
        byte[] encoded = VersionedObject.Empty.Update(VersionVector.Empty, A, Bytes("x"), 1, 0).Encode();
        encoded[0] = 2;
        FormatException error = Assert.Throws<FormatException>(() => VersionedObject.Decode(encoded));
        Assert.Contains("format 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_Empty_IsVersionAndTwoZeroCounts()
    {
        Assert.Equal([VersionedObject.FormatVersion, 0, 0], VersionedObject.Empty.Encode());
        Assert.Same(VersionedObject.Empty, VersionedObject.Decode([VersionedObject.FormatVersion, 0, 0]));
    }

    private static void AssertDecodesOrThrowsFormatException(byte[] input)
    {
        try
        {
            VersionedObject decoded = VersionedObject.Decode(input);
            Assert.Equal(decoded, VersionedObject.Decode(decoded.Encode()));
        }
        catch (FormatException)
        {
        }
    }

    private static byte[] Bytes(string text) => System.Text.Encoding.UTF8.GetBytes(text);
}
