using Dynamite.Core.DataTypes;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.DataTypes;

public sealed class KeyHeaderTests
{
    private static readonly NodeId A = new("a");
    private static readonly NodeId B = new("b");

    [Fact]
    public void ConcurrentCreationsOfDifferentTypes_TheLaterCreationWinsOnEveryReplica()
    {
        KeyHeader set = KeyHeader.Create(DataType.Set, new Stamp(100, new Dot(A, 1)));
        KeyHeader hash = KeyHeader.Create(DataType.Hash, new Stamp(200, new Dot(B, 1)));

        Assert.Equal(DataType.Hash, KeyHeader.Join(set, hash).Type);
        Assert.Equal(DataType.Hash, KeyHeader.Join(hash, set).Type);
    }

    [Fact]
    public void TimestampTie_TheHigherDotWins()
    {
        KeyHeader set = KeyHeader.Create(DataType.Set, new Stamp(100, new Dot(B, 1)));
        KeyHeader hash = KeyHeader.Create(DataType.Hash, new Stamp(100, new Dot(A, 9)));

        Assert.Equal(DataType.Set, KeyHeader.Join(set, hash).Type);
        Assert.Equal(DataType.Set, KeyHeader.Join(hash, set).Type);
    }

    [Fact]
    public void Expiry_IsLastWriterWins_AndPersistIsAWriteToo()
    {
        KeyHeader created = KeyHeader.Create(DataType.Hash, new Stamp(1, new Dot(A, 1)));
        KeyHeader expired = created.WithExpiry(5_000, new Stamp(10, new Dot(A, 2)));
        KeyHeader persisted = created.WithExpiry(0, new Stamp(20, new Dot(B, 1)));

        Assert.Equal(0, KeyHeader.Join(expired, persisted).ExpiresAtUnixMs);
        Assert.Equal(0, KeyHeader.Join(persisted, expired).ExpiresAtUnixMs);
    }

    [Fact]
    public void WritesBeforeAnExpiry_StayDeadAfterTheKeyIsWrittenAgain()
    {
        KeyHeader header = KeyHeader.Create(DataType.Set, new Stamp(1, new Dot(A, 1))).WithExpiry(1_000, new Stamp(500, new Dot(A, 2)));
        Assert.False(header.IsDeadAt(900, nowUnixMs: 999));
        Assert.True(header.IsDeadAt(900, nowUnixMs: 1_000));

        // A write into the expired key clears the expiry and raises dead-before to it.
        KeyHeader rewritten = header.WithExpiry(0, new Stamp(1_200, new Dot(B, 1))).WithDeadBefore(1_000);
        KeyHeader joined = KeyHeader.Join(header, rewritten);
        Assert.True(joined.IsDeadAt(900, nowUnixMs: 1_300));
        Assert.False(joined.IsDeadAt(1_200, nowUnixMs: 1_300));
    }

    [Fact]
    public void Join_IsCommutativeAssociativeAndIdempotent()
    {
        var random = new Random(9);
        for (int round = 0; round < 300; round++)
        {
            KeyHeader x = RandomHeader(random), y = RandomHeader(random), z = RandomHeader(random);

            Assert.Equal(KeyHeader.Join(x, y), KeyHeader.Join(y, x));
            Assert.Equal(KeyHeader.Join(KeyHeader.Join(x, y), z), KeyHeader.Join(x, KeyHeader.Join(y, z)));
            Assert.Equal(x, KeyHeader.Join(x, x));
        }
    }

    [Fact]
    public void Encoding_RoundTrips_AndRejectsMalformedInput()
    {
        var random = new Random(4);
        for (int round = 0; round < 100; round++)
        {
            KeyHeader header = RandomHeader(random);
            byte[] bytes = header.Encode();
            Assert.Equal(header, KeyHeader.Decode(bytes));
            for (int length = 0; length < bytes.Length; length++)
            {
                Assert.Throws<FormatException>(() => KeyHeader.Decode(bytes.AsSpan(0, length)));
            }
        }

        byte[] valid = KeyHeader.Create(DataType.Hash, Stamp.None).Encode();
        byte[] unknownType = (byte[])valid.Clone();
        unknownType[1] = 200;
        Assert.Throws<FormatException>(() => KeyHeader.Decode(unknownType));
    }

    private static KeyHeader RandomHeader(Random random)
    {
        NodeId[] actors = [A, B];
        Stamp RandomStamp() => random.Next(4) == 0 ? Stamp.None : new Stamp(random.Next(0, 5), new Dot(actors[random.Next(2)], random.Next(1, 4)));
        var dots = Enumerable.Range(0, random.Next(0, 5)).Select(_ => new Dot(actors[random.Next(2)], random.Next(1, 8)));

        // One stamp names one write: a type's creation and an expiry write never share a stamp with different contents.
        Stamp created = RandomStamp();
        Stamp expirySet = RandomStamp();
        DataType type = created.Dot is { } dot ? (DataType)(1 + (int)(((dot.Counter * 7) + created.TimestampUnixMs) % 3)) : DataType.Set;
        long expiresAt = expirySet.Dot is { } expiryDot ? (expiryDot.Counter * 13) + expirySet.TimestampUnixMs : 0;
        return new KeyHeader(type, created, DotContext.Of(dots), expiresAt, expirySet, random.Next(0, 3) * 100);
    }
}
