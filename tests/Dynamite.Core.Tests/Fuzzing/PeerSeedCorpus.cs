using System.Buffers;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.DataTypes;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.PubSub;
using Dynamite.Core.Versioning;

namespace Dynamite.Core.Tests.Fuzzing;

/// <summary>
/// Seed inputs for the peer-protocol fuzzer: frames exactly as <see cref="PeerFrameCodec.WriteFrame{TPayload}(IBufferWriter{byte}, ulong, TPayload)"/>
/// produces them for every message type, carrying real encoded objects and cluster states, plus pipelined sequences
/// (a handshake, a put followed by a ping) as a connection sees them.
/// </summary>
internal static class PeerSeedCorpus
{
    private const long Now = 1_700_000_000_000;

    // Declared before Entries: static initializers run in order, and Entries frames these.
    public static IReadOnlyList<IPeerPayload> Messages { get; } = BuildMessages();

    public static IReadOnlyList<byte[]> Entries { get; } = Build();

    public static byte[] Frame(IPeerPayload message, ulong requestId)
    {
        var writer = new ArrayBufferWriter<byte>();
        PeerFrameCodec.WriteFrame(writer, requestId, message);
        return writer.WrittenSpan.ToArray();
    }

    private static List<IPeerPayload> BuildMessages()
    {
        var nodeA = new NodeId("node-a");
        var nodeB = new NodeId("node-b");
        VersionedObject single = VersionedObject.Empty.Update(VersionVector.Empty, nodeA, "hello"u8.ToArray(), Now, 0);
        // Two writers without each other's context: an object with siblings, one of them expiring.
        VersionedObject siblings = single.Update(VersionVector.Empty, nodeB, Filled(40, 3), Now + 1, Now + 60_000);
        VersionedObject tombstone = single.Update(single.Context, nodeA, null, Now + 2, Now + 86_400_000);
        byte[] context = ContextBytes(siblings.Context);

        var members = new List<MemberRecord>
        {
            new(new NodeDescriptor(nodeA, "dc1", "rack-1"), "10.0.0.1:7400", MemberStatus.Up, 3),
            new(new NodeDescriptor(nodeB, "dc1", "rack-2"), "10.0.0.2:7400", MemberStatus.Up, 0),
            new(new NodeDescriptor(new NodeId("node-c"), "dc2", "rack-1"), "[::1]:7400", MemberStatus.Joining, 1),
        };
        byte[] clusterState = ClusterState.Bootstrap(members, partitionBits: 3).ToBytes();
        var identity = new PeerIdentity("node-a", "dc1", "rack-1");

        return
        [
            new Hello(1, "prod-cluster", identity, "10.0.0.1:7400", Filled(PeerHandshake.NonceBytes, 3)),
            new HelloChallenge(Filled(PeerHandshake.NonceBytes, 9), new PeerIdentity("node-b", "dc1", "rack-2")),
            new HelloProof(Filled(PeerHandshake.ProofBytes, 5)),
            new Welcome(Filled(PeerHandshake.ProofBytes, 6)),
            new Refused("cluster name mismatch"),
            new Ping(7),
            new Pong(7),
            new ReplicaGet("user:42"u8.ToArray(), new PartitionId(5)),
            new ReplicaGetReply(ReplicaGetStatus.Found, siblings.Encode()),
            new ReplicaGetReply(ReplicaGetStatus.NotFound, ReadOnlyMemory<byte>.Empty),
            new ReplicaPut("user:42"u8.ToArray(), single.Encode()),
            new ReplicaPut("user:43"u8.ToArray(), siblings.Encode()),
            new ReplicaPut("user:44"u8.ToArray(), tombstone.Encode()),
            new ReplicaPutAck(ReplicaPutStatus.Stored),
            new HintedPut("node-c", "user:42"u8.ToArray(), siblings.Encode()),
            ReplicaCount.Instance,
            new ReplicaCountReply(12),
            new CoordinatePut("user:42"u8.ToArray(), context, "v2"u8.ToArray(), IsDelete: false, ExpiresAtUnixMs: Now + 1000, WriteQuorum: 2, BitPatches: ReadOnlyMemory<byte>.Empty),
            new CoordinatePut("user:42"u8.ToArray(), ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, IsDelete: true, ExpiresAtUnixMs: 0, WriteQuorum: 0, BitPatches: ReadOnlyMemory<byte>.Empty),
            new CoordinatePutReply(Stored: true, string.Empty),
            new ErrorMessage(PeerErrorCode.MalformedPayload, "bad payload"),
            new MerkleLevelRequest(new PartitionId(3), 1024, 16, 1, 0, 16),
            new MerkleLevelReply(new ulong[] { 1, 2, 0xDEADBEEF, ulong.MaxValue }),
            new SegmentKeysRequest(new PartitionId(3), 1024, 17),
            new SegmentKeysReply(new SegmentKey[] { new("user:1"u8.ToArray(), 42), new("user:2"u8.ToArray(), 7) }),
            new TombstoneDigestRequest(new PartitionId(3), new[] { "gone:1"u8.ToArray(), "gone:2"u8.ToArray() }),
            new TombstoneDigestReply(new ulong[] { 0x1234_5678_9ABC_DEF0, 0 }),
            new CollectTombstones(new PartitionId(3), new SegmentKey[] { new("gone:1"u8.ToArray(), 0x1234_5678_9ABC_DEF0) }),
            new CollectTombstonesAck(1),
            new GossipDigest(0x0123456789ABCDEF, 4),
            new GossipState(clusterState),
            new GossipState(ClusterState.Empty.ToBytes()),
            new JoinRequest(members[2]),
            new JoinReply(clusterState),
            new ReplicaDelta("h"u8.ToArray(), HashFieldDelta(nodeA)),
            new HintedDelta("b", "h"u8.ToArray(), HashFieldDelta(nodeA)),
            new ReplicaReadElements("h"u8.ToArray(), ElementSelection.Named(["f"u8.ToArray()]).Encode()),
            new ReplicaReadElements("h"u8.ToArray(), ElementSelection.Page("f"u8.ToArray(), 100).Encode()),
            new ReplicaReadElements("z"u8.ToArray(), ElementSelection.IndexWindow(null, 26, backward: true).Encode()),
            new ReplicaReadElementsReply(new ReplicaElements(StoredKeyKind.None, [], [], false).Encode()),
            new ForwardCommand(2, ["INCRBY"u8.ToArray(), "counter"u8.ToArray(), "5"u8.ToArray()]),
            new ForwardCommandReply(":5\r\n"u8.ToArray()),
            new PublishBatch(new[] { new PublishedMessage("chan"u8.ToArray(), "hello"u8.ToArray(), Sharded: false) }),
            new PublishBatchAck(1),
            new ReplicaBatch([new ReplicaBatchEntry(ReplicaBatchEntryKind.Delta, "h"u8.ToArray(), HashFieldDelta(nodeA))]),
            new FlushRequest(Now),
            new FlushAck(Now),
            new MerkleRootsRequest(1024, 16, new[] { new PartitionId(0), new PartitionId(3), new PartitionId(255) }),
            new MerkleRootsReply(new ulong[] { 0, 0xDEADBEEF, ulong.MaxValue }),
        ];
    }

    private static List<byte[]> Build()
    {
        var entries = Messages.Select((message, i) => Frame(message, (ulong)i + 1)).ToList();
        // Pipelined traffic: a client's handshake, then replication interleaved with keepalives.
        entries.Add([.. Frame(Messages[0], 0), .. Frame(Messages[2], 0)]);
        entries.Add([.. Frame(Messages[10], 100), .. Frame(Messages[5], 101), .. Frame(Messages[17], 102)]);
        entries.Add([.. Frame(Messages[26], 200), .. Frame(Messages[25], 201)]);
        return entries;
    }

    private static byte[] ContextBytes(VersionVector context)
    {
        var writer = new ArrayBufferWriter<byte>();
        context.Write(writer);
        return writer.WrittenSpan.ToArray();
    }

    private static byte[] Filled(int length, byte seed)
    {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 31) + seed);
        }

        return bytes;
    }

    /// <summary>A one-field hash write as a coordinator ships it (a creation dot and one register write).</summary>
    private static byte[] HashFieldDelta(NodeId actor)
    {
        Dot created = new(actor, 1);
        KeyHeader header = KeyHeader.Create(DataType.Hash, new Stamp(Now, created)).WithContext(DotContext.Of([created]));
        ElementDelta write = ElementDelta.Assign(ElementState.Empty, header.Context, actor, Now, "v"u8.ToArray());
        return new KeyDelta(header, [new("f"u8.ToArray(), write)]).Encode();
    }
}
