using Dynamite.Core.Membership;
using Dynamite.Core.Quorum;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.Versioning;

/// <summary>Pins what is stored on disk or sent to peers and clients: changing any of it needs a new format version.</summary>
public sealed class PersistedFormatTests
{
    [Fact]
    public void Encode_OneSiblingObject_MatchesPinnedBytes()
    {
        VersionedObject stored = VersionedObject.Empty.Update(VersionVector.Empty, new NodeId("a"), [0x01], nowUnixMs: 5, expiresAtUnixMs: 0);

        // version | context: 1 entry, "a", counter 1, ts zigzag(5) | 1 sibling: node #0, counter 1, has value, ts, len 1, 0x01
        byte[] expected = [0x01, 0x01, 0x01, 0x61, 0x01, 0x0A, 0x01, 0x00, 0x01, 0x01, 0x0A, 0x01, 0x01];
        Assert.Equal(expected, stored.Encode());
        Assert.Equal(stored, VersionedObject.Decode(expected));
    }

    [Fact]
    public void Encode_TombstoneWithExpiry_MatchesPinnedBytes()
    {
        VersionedObject stored = VersionedObject.Empty.Update(VersionVector.Empty, new NodeId("a"), null, nowUnixMs: 1, expiresAtUnixMs: 2);
        byte[] expected = [0x01, 0x01, 0x01, 0x61, 0x01, 0x02, 0x01, 0x00, 0x01, 0x02, 0x02, 0x04];
        Assert.Equal(expected, stored.Encode());
    }

    [Fact]
    public void ContextToken_SmallVector_MatchesPinnedText()
    {
        VersionVector context = VersionVector.Empty.Increment(new NodeId("a"), 5);
        Assert.Equal("AQEBYQEK", ContextToken.Encode(context));
    }

    [Fact]
    public void Enums_PersistedValues_AreStable()
    {
        Assert.Equal([0, 1, 2, 3], Enum.GetValues<Causality>().Select(v => (int)v));
        Assert.Equal([0, 1, 2, 3, 4], Enum.GetValues<GetOutcome>().Select(v => (int)v));
        Assert.Equal([0, 1, 2], Enum.GetValues<PutOutcome>().Select(v => (int)v));
        Assert.Equal(1, VersionedObject.FormatVersion);
        Assert.Equal(1, ContextToken.FormatVersion);
    }
}
