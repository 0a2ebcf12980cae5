using System.Buffers;
using System.Buffers.Binary;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.PubSub;
using Dynamite.Core.Quorum;
using Xunit;

namespace Dynamite.Core.Tests.Peer;

public sealed class PeerMessagesTests
{
    private static readonly PeerIdentity Node = new("node-a", "dc1", "rack-2");

    /// <summary>One instance of every message type, with non-trivial field values.</summary>
    public static TheoryData<IPeerPayload> AllMessages() =>
    [
        new Hello(1, "prod-cluster", Node, "10.0.0.1:7400", Filled(PeerHandshake.NonceBytes, 3)),
        new HelloChallenge(Filled(PeerHandshake.NonceBytes, 9), new PeerIdentity("node-b", "dc2", "r1")),
        new HelloProof(Filled(PeerHandshake.ProofBytes, 5)),
        new Welcome(Filled(PeerHandshake.ProofBytes, 6)),
        new Refused("cluster name mismatch: expected a, got b"),
        new Ping(ulong.MaxValue),
        new Pong(12345),
        new ReplicaGet("user:42"u8.ToArray(), new PartitionId(1023)),
        new ReplicaGetReply(ReplicaGetStatus.Found, Filled(1000, 7)),
        new ReplicaGetReply(ReplicaGetStatus.NotFound, ReadOnlyMemory<byte>.Empty),
        new ReplicaPut(Array.Empty<byte>(), Filled(70_000, 1)),
        new ReplicaPutAck(ReplicaPutStatus.Stored),
        new HintedPut("node-ü", "k"u8.ToArray(), Filled(3, 2)),
        ReplicaCount.Instance,
        new ReplicaCountReply(-1),
        new CoordinatePut("k"u8.ToArray(), Filled(12, 3), Filled(100, 4), IsDelete: false, ExpiresAtUnixMs: 1_700_000_000_000, WriteQuorum: 2, BitPatches: Filled(5, 6)),
        new CoordinatePut("k"u8.ToArray(), ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, IsDelete: true, ExpiresAtUnixMs: 0, WriteQuorum: 0, BitPatches: ReadOnlyMemory<byte>.Empty),
        new CoordinatePutReply(Stored: false, "NOQUORUM write quorum not reached"),
        new ErrorMessage(PeerErrorCode.MalformedPayload, "bad ✓"),
        new MerkleLevelRequest(new PartitionId(255), 1024, 16, 2, 48, 16),
        new MerkleLevelReply(new ulong[] { 0, 1, ulong.MaxValue, 0x0123_4567_89AB_CDEF }),
        new MerkleLevelReply(ReadOnlyMemory<ulong>.Empty),
        new SegmentKeysRequest(new PartitionId(7), 1024, 1023),
        new SegmentKeysReply(new SegmentKey[] { new("user:1"u8.ToArray(), 42), new(Array.Empty<byte>(), ulong.MaxValue), new(Filled(300, 9), 1) }),
        new SegmentKeysReply(Array.Empty<SegmentKey>()),
        new TombstoneDigestRequest(new PartitionId(9), new[] { "user:1"u8.ToArray(), Array.Empty<byte>(), Filled(300, 4) }),
        new TombstoneDigestRequest(new PartitionId(0), Array.Empty<byte[]>()),
        new TombstoneDigestReply(new ulong[] { 0, 1, ulong.MaxValue }),
        new TombstoneDigestReply(Array.Empty<ulong>()),
        new CollectTombstones(new PartitionId(1023), new SegmentKey[] { new("user:1"u8.ToArray(), 42), new(Array.Empty<byte>(), ulong.MaxValue) }),
        new CollectTombstones(new PartitionId(3), Array.Empty<SegmentKey>()),
        new CollectTombstonesAck(1000),
        new MerkleRootsRequest(1024, 16, new[] { new PartitionId(0), new PartitionId(7), new PartitionId(65_535) }),
        new MerkleRootsRequest(1024, 16, Array.Empty<PartitionId>()),
        new MerkleRootsReply(new ulong[] { 0, 1, ulong.MaxValue, 0x0123_4567_89AB_CDEF }),
        new MerkleRootsReply(ReadOnlyMemory<ulong>.Empty),
        new GossipDigest(0xDEADBEEF_01234567, 42),
        new GossipState(Filled(300, 8)),
        new JoinRequest(new MemberRecord(new NodeDescriptor(new NodeId("node-ü"), "dc1", "rack-2"), "10.0.0.9:7400", MemberStatus.Joining, 3)),
        new JoinReply(Filled(2000, 9)),
        new ReplicaDelta("h"u8.ToArray(), Filled(500, 5)),
        new FlushRequest(1_700_000_000_000),
        new FlushRequest(1, CheckOnly: true),
        new FlushAck(1_700_000_000_000),
        new HintedDelta("node-ü", "h"u8.ToArray(), Filled(500, 6)),
        new ReplicaReadElements("h"u8.ToArray(), Filled(40, 7)),
        new ReplicaReadElementsReply(Filled(700, 8)),
        new ForwardCommand(3, ["HSET"u8.ToArray(), "h"u8.ToArray(), Filled(30, 9), []]),
        new ForwardCommand(2, ["SADD"u8.ToArray(), "s"u8.ToArray(), "m"u8.ToArray()], ConsistencyLevel.DcOne),
        new ForwardCommand(2, ["DEL"u8.ToArray(), "k"u8.ToArray()], ConsistencyLevel.Explicit(1, 3)),
        new ForwardCommandReply(":1\r\n"u8.ToArray()),
        new PublishBatch([new PublishedMessage("news"u8.ToArray(), Filled(40, 3), Sharded: false), new PublishedMessage("{user}:1"u8.ToArray(), [], Sharded: true)]),
        new PublishBatchAck(7),
        new ReplicaBatch([new ReplicaBatchEntry(ReplicaBatchEntryKind.VersionedObject, "{t}a"u8.ToArray(), Filled(300, 4)), new ReplicaBatchEntry(ReplicaBatchEntryKind.Delta, "{t}h"u8.ToArray(), Filled(200, 5))]),
    ];

    [Fact]
    public void ReplicaBatch_OfNoEntriesOrTooMany_IsRefusedBeforeItIsSent()
    {
        // PayloadLength is what a send checks first: a batch that cannot be written never reaches a connection's write loop.
        Assert.Throws<ArgumentException>(() => new ReplicaBatch([]).PayloadLength);
        var entry = new ReplicaBatchEntry(ReplicaBatchEntryKind.VersionedObject, "k"u8.ToArray(), new byte[1]);
        Assert.Throws<ArgumentException>(() => new ReplicaBatch(Enumerable.Repeat(entry, ReplicaBatch.MaxEntries + 1).ToArray()).PayloadLength);
    }

    [Fact]
    public void AllMessages_CoverEveryMessageType()
    {
        var covered = new HashSet<PeerMessageType>();
        foreach (object[] row in (IEnumerable<object[]>)AllMessages())
        {
            covered.Add(((IPeerPayload)row[0]).Type);
        }

        Assert.Equal(Enum.GetValues<PeerMessageType>().ToHashSet(), covered);
    }

    [Theory]
    [MemberData(nameof(AllMessages))]
    public void Read_OfWrite_ReproducesTheMessage(IPeerPayload message)
    {
        byte[] encoded = Encode(message);
        Assert.Equal(message.PayloadLength, encoded.Length);

        IPeerPayload decoded = PeerMessages.Read(message.Type, encoded);

        Assert.Equal(message.GetType(), decoded.GetType());
        Assert.Equal(encoded, Encode(decoded));
        Assert.Equal(Describe(message), Describe(decoded));
    }

    [Theory]
    [MemberData(nameof(AllMessages))]
    public void Read_EveryTruncation_ThrowsPeerProtocolException(IPeerPayload message)
    {
        byte[] encoded = Encode(message);
        // Large bodies: every cut in the fields' prefixes, then a sample of cuts inside the body.
        IEnumerable<int> cuts = encoded.Length <= 512
            ? Enumerable.Range(0, encoded.Length)
            : Enumerable.Range(0, 300).Concat(Enumerable.Range(0, 50).Select(i => 300 + (i * (encoded.Length - 301) / 50)));
        foreach (int cut in cuts)
        {
            Assert.Throws<PeerProtocolException>(() => PeerMessages.Read(message.Type, encoded.AsSpan(0, cut)));
        }
    }

    [Theory]
    [MemberData(nameof(AllMessages))]
    public void Read_TrailingByte_ThrowsPeerProtocolException(IPeerPayload message)
    {
        byte[] encoded = [.. Encode(message), 0];
        var exception = Assert.Throws<PeerProtocolException>(() => PeerMessages.Read(message.Type, encoded));
        Assert.Contains("trailing", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_RandomGarbage_OnlyEverThrowsPeerProtocolException()
    {
        var random = new Random(20240601);
        foreach (PeerMessageType type in Enum.GetValues<PeerMessageType>())
        {
            for (int i = 0; i < 2000; i++)
            {
                byte[] garbage = new byte[random.Next(0, 80)];
                random.NextBytes(garbage);
                try
                {
                    PeerMessages.Read(type, garbage);
                }
                catch (PeerProtocolException)
                {
                }
            }
        }
    }

    [Fact]
    public void Read_HugeLengthPrefix_ThrowsWithoutAllocating()
    {
        byte[] payload = new byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(payload, uint.MaxValue);
        var exception = Assert.Throws<PeerProtocolException>(() => ReplicaPut.Read(payload));
        Assert.Contains("exceeds its limit", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_AntiEntropyCountBeyondThePayload_ThrowsWithoutAllocating()
    {
        byte[] payload = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(payload, int.MaxValue);
        Assert.Throws<PeerProtocolException>(() => MerkleLevelReply.Read(payload));
        Assert.Throws<PeerProtocolException>(() => SegmentKeysReply.Read(payload));
        BinaryPrimitives.WriteInt32BigEndian(payload, -1);
        Assert.Throws<PeerProtocolException>(() => MerkleLevelReply.Read(payload));
        Assert.Throws<PeerProtocolException>(() => SegmentKeysReply.Read(payload));
    }

    [Fact]
    public void Read_MerkleLevelRequestNegativeOrHugeCount_ThrowsPeerProtocolException()
    {
        Assert.Throws<PeerProtocolException>(() => MerkleLevelRequest.Read(Encode(new MerkleLevelRequest(new PartitionId(1), 1024, 16, 0, 0, -1))));
        Assert.Throws<PeerProtocolException>(() => MerkleLevelRequest.Read(Encode(new MerkleLevelRequest(new PartitionId(1), 1024, 16, 0, 0, PeerLimits.MaxMerkleHashes + 1))));
    }

    [Theory]
    [InlineData(new[] { 3, 3 }, "not above")]
    [InlineData(new[] { 9, 2 }, "not above")]
    [InlineData(new[] { -1 }, "negative")]
    public void Read_MerkleRootsRequestPartitionsNotStrictlyAscending_ThrowsNamingThePartition(int[] partitions, string expected)
    {
        // Written by hand: the record itself does not check order, the decoder must.
        var writer = new ArrayBufferWriter<byte>();
        PeerPayloadWriter.WriteInt32(writer, 1024);
        PeerPayloadWriter.WriteInt32(writer, 16);
        PeerPayloadWriter.WriteInt32(writer, partitions.Length);
        foreach (int partition in partitions)
        {
            PeerPayloadWriter.WriteInt32(writer, partition);
        }

        var exception = Assert.Throws<PeerProtocolException>(() => PeerMessages.Read(PeerMessageType.MerkleRootsRequest, writer.WrittenSpan));
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
        Assert.Contains("MerkleRootsRequest", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MerkleRootsCountNegativeOrBeyondThePayloadOrLimit_ThrowsWithoutAllocating()
    {
        byte[] request = new byte[20];
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), int.MaxValue);
        Assert.Contains("count", Assert.Throws<PeerProtocolException>(() => MerkleRootsRequest.Read(request)).Message, StringComparison.Ordinal);
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), -1);
        Assert.Throws<PeerProtocolException>(() => MerkleRootsRequest.Read(request));
        BinaryPrimitives.WriteInt32BigEndian(request, -1);
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), 2);
        Assert.Contains("negative", Assert.Throws<PeerProtocolException>(() => MerkleRootsRequest.Read(request)).Message, StringComparison.Ordinal);

        byte[] reply = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(reply, int.MaxValue);
        Assert.Throws<PeerProtocolException>(() => MerkleRootsReply.Read(reply));
        BinaryPrimitives.WriteInt32BigEndian(reply, -1);
        Assert.Throws<PeerProtocolException>(() => MerkleRootsReply.Read(reply));

        // A count over the limit is refused even when the payload really holds that many roots.
        byte[] huge = new byte[4 + ((PeerLimits.MaxMerkleRoots + 1) * 8)];
        BinaryPrimitives.WriteInt32BigEndian(huge, PeerLimits.MaxMerkleRoots + 1);
        Assert.Contains("limit", Assert.Throws<PeerProtocolException>(() => MerkleRootsReply.Read(huge)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_MerkleRootsOverTheLimit_ThrowsBeforeSending()
    {
        var partitions = Enumerable.Range(0, PeerLimits.MaxMerkleRoots + 1).Select(p => new PartitionId(p)).ToArray();
        Assert.Throws<ArgumentException>(() => new MerkleRootsRequest(1024, 16, partitions).PayloadLength);
        Assert.Throws<ArgumentException>(() => new MerkleRootsReply(new ulong[PeerLimits.MaxMerkleRoots + 1]).PayloadLength);
    }

    [Fact]
    public void MerkleRoots_LargestRing_FitsOneFrame()
    {
        // Every partition of the largest ring in one request and one reply, well under the default frame limit.
        Assert.True(PeerFrameCodec.HeaderBytes + MerkleRootsRequest.PayloadLengthFor(PeerLimits.MaxMerkleRoots) < PeerFrameCodec.DefaultMaxFrameBytes);
        Assert.True(PeerFrameCodec.HeaderBytes + MerkleRootsReply.PayloadLengthFor(PeerLimits.MaxMerkleRoots) < PeerFrameCodec.DefaultMaxFrameBytes);
    }

    [Fact]
    public void Read_InvalidUtf8_ThrowsPeerProtocolException()
    {
        byte[] payload = [0, 2, 0xC3, 0x28];
        var exception = Assert.Throws<PeerProtocolException>(() => Refused.Read(payload));
        Assert.Contains("UTF-8", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnknownStatus_ThrowsPeerProtocolException()
    {
        Assert.Throws<PeerProtocolException>(() => ReplicaPutAck.Read([99]));
        Assert.Throws<PeerProtocolException>(() => ReplicaGetReply.Read([0, 0, 0, 0, 0]));
    }

    [Fact]
    public void Read_UnknownType_ThrowsPeerProtocolException()
    {
        Assert.Throws<PeerProtocolException>(() => PeerMessages.Read((PeerMessageType)200, []));
    }

    [Fact]
    public void Write_NameOverTheLimit_ThrowsBeforeSending()
    {
        var hello = new Hello(1, new string('x', PeerLimits.MaxNameBytes + 1), Node, "a:1", Filled(PeerHandshake.NonceBytes, 0));
        Assert.Throws<ArgumentException>(() => hello.PayloadLength);
    }

    private static byte[] Encode(IPeerPayload message)
    {
        var writer = new ArrayBufferWriter<byte>();
        message.Write(writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>A record's ToString shows memory fields by length only; compare their contents separately via bytes.</summary>
    private static string Describe(IPeerPayload message) => message.ToString() ?? string.Empty;

    private static byte[] Filled(int length, byte seed)
    {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 31) + seed);
        }

        return bytes;
    }
}
