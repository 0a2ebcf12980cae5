using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Xunit;

namespace Dynamite.Core.Tests.Peer;

/// <summary>
/// Pins every wire enum value. If this fails, someone renumbered or removed a released value: nodes of two
/// versions would misread each other. Append new values (and add them here) instead.
/// </summary>
public sealed class PeerWireEnumTests
{
    [Fact]
    public void PeerMessageType_Values_ArePinned()
    {
        AssertPinned(new Dictionary<string, int>
        {
            ["Hello"] = 1,
            ["HelloChallenge"] = 2,
            ["HelloProof"] = 3,
            ["Welcome"] = 4,
            ["Refused"] = 5,
            ["Ping"] = 10,
            ["Pong"] = 11,
            ["ReplicaGet"] = 20,
            ["ReplicaGetReply"] = 21,
            ["ReplicaPut"] = 22,
            ["ReplicaPutAck"] = 23,
            ["HintedPut"] = 24,
            ["ReplicaCount"] = 26,
            ["ReplicaCountReply"] = 27,
            ["CoordinatePut"] = 28,
            ["CoordinatePutReply"] = 29,
            ["Error"] = 30,
            ["MerkleLevelRequest"] = 40,
            ["MerkleLevelReply"] = 41,
            ["SegmentKeysRequest"] = 42,
            ["SegmentKeysReply"] = 43,
            ["TombstoneDigestRequest"] = 44,
            ["TombstoneDigestReply"] = 45,
            ["CollectTombstones"] = 46,
            ["CollectTombstonesAck"] = 47,
            ["MerkleRootsRequest"] = 48,
            ["MerkleRootsReply"] = 49,
            ["GossipDigest"] = 50,
            ["GossipState"] = 51,
            ["JoinRequest"] = 52,
            ["JoinReply"] = 53,
            ["ReplicaDelta"] = 60,
            ["FlushRequest"] = 61,
            ["FlushAck"] = 62,
            ["HintedDelta"] = 63,
            ["ReplicaReadElements"] = 64,
            ["ReplicaReadElementsReply"] = 65,
            ["ForwardCommand"] = 66,
            ["ForwardCommandReply"] = 67,
            ["PublishBatch"] = 68,
            ["PublishBatchAck"] = 69,
            ["ReplicaBatch"] = 70,
        }, Enum.GetValues<PeerMessageType>(), v => (byte)v);
    }

    [Fact]
    public void StatusAndErrorEnums_Values_ArePinned()
    {
        AssertPinned(new Dictionary<string, int> { ["Found"] = 1, ["NotFound"] = 2, ["Error"] = 3, ["Unchanged"] = 4, ["Typed"] = 5 }, Enum.GetValues<ReplicaGetStatus>(), v => (byte)v);
        AssertPinned(new Dictionary<string, int> { ["Stored"] = 1, ["Error"] = 2 }, Enum.GetValues<ReplicaPutStatus>(), v => (byte)v);
        AssertPinned(
            new Dictionary<string, int> { ["UnknownMessageType"] = 1, ["MalformedPayload"] = 2, ["Internal"] = 3, ["Unavailable"] = 4 },
            Enum.GetValues<PeerErrorCode>(),
            v => (ushort)v);
        AssertPinned(new Dictionary<string, int> { ["Client"] = 1, ["Server"] = 2 }, Enum.GetValues<PeerHandshakeRole>(), v => (byte)v);
    }

    [Fact]
    public void PeerFrameCodec_Layout_IsPinned()
    {
        Assert.Equal(1, PeerFrameCodec.ProtocolVersion);
        Assert.Equal(14, PeerFrameCodec.HeaderBytes);
        Assert.Equal(32, PeerHandshake.NonceBytes);
        Assert.Equal(32, PeerHandshake.ProofBytes);
    }

    private static void AssertPinned<TEnum>(Dictionary<string, int> pinned, TEnum[] values, Func<TEnum, int> number)
        where TEnum : struct, Enum
    {
        // Every value in the enum must be pinned (so adding one means adding it here), and every pin must hold.
        Assert.Equal(pinned.Count, values.Length);
        foreach (TEnum value in values)
        {
            string name = value.ToString();
            Assert.True(pinned.TryGetValue(name, out int expected), $"{typeof(TEnum).Name}.{name} is not pinned by this test");
            Assert.Equal(expected, number(value));
        }
    }
}
