using Dynamite.Core.DataTypes;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.DataTypes;

public sealed class TypedKeyRecordTests
{
    private static readonly KeyHeader Header =
        KeyHeader.Create(DataType.SortedSet, new Stamp(100, new Dot(new NodeId("a"), 1))).WithContext(DotContext.Of([new Dot(new NodeId("a"), 1)]));

    [Theory]
    [InlineData(0L, null)]
    [InlineData(7L, null)]
    [InlineData(0L, 0UL)]
    [InlineData(7L, 0x8000_0000_0000_0001UL)]
    [InlineData(long.MaxValue, ulong.MaxValue)]
    public void EncodeDecode_RoundTripsCountAndDigest_AndTheShortcutsReadTheirFields(long count, ulong? digest)
    {
        var record = new TypedKeyRecord(Header, count, digest);
        byte[] encoded = record.Encode();

        Assert.Equal(record, TypedKeyRecord.Decode(encoded));
        Assert.Equal(DataType.SortedSet, TypedKeyRecord.TypeOf(encoded));
        Assert.Equal(count, TypedKeyRecord.CountOf(encoded));
    }

    [Fact]
    public void Encode_OnlyTheDigestDiffers_TheBytesDiffer()
    {
        // Anti-entropy hashes these bytes: two replicas holding different elements under one header must differ.
        Assert.NotEqual(new TypedKeyRecord(Header, 3, 1).Encode(), new TypedKeyRecord(Header, 3, 2).Encode());
        Assert.NotEqual(new TypedKeyRecord(Header, 3, 0).Encode(), new TypedKeyRecord(Header, 3).Encode());
    }

    [Fact]
    public void Decode_TruncatedRecords_AreFormatErrors()
    {
        byte[] encoded = new TypedKeyRecord(Header, 3, 42).Encode();
        for (int cut = 0; cut < encoded.Length; cut++)
        {
            Assert.Throws<FormatException>(() => TypedKeyRecord.Decode(encoded.AsSpan(0, cut)));
        }

        Assert.Throws<FormatException>(() => TypedKeyRecord.TypeOf(encoded.AsSpan(0, 9)));
    }

    [Fact]
    public void DigestOf_DependsOnNameAndState_AndIsNeverZero()
    {
        ulong digest = TypedKeyRecord.DigestOf([1], [2, 3]);

        Assert.NotEqual(0UL, digest);
        Assert.Equal(digest, TypedKeyRecord.DigestOf([1], [2, 3]));
        Assert.NotEqual(digest, TypedKeyRecord.DigestOf([1, 2], [3]));
        Assert.NotEqual(digest, TypedKeyRecord.DigestOf([1], [2, 4]));
    }
}
