using System.Buffers;
using System.Text;
using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Tests.Transport;
using Dynamite.Cluster.Transport;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Versioning;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Dynamite.Cluster.Tests.Replication;

/// <summary>The replica side end to end: a real <see cref="PeerListener"/> serving a <see cref="ReplicaRequestHandler"/>, a real <see cref="PeerClient"/> on loopback.</summary>
public sealed class ReplicaRequestHandlerTests : IAsyncLifetime
{
    private const long Start = 1_700_000_000_000;

    private static readonly NodeId Coordinator = new("client-node");
    private static readonly NodeId Absent = new("absent-node");

    private readonly TestEngines _engines = new();
    private readonly PeerTestCluster _cluster = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeMilliseconds(Start));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _engines.DisposeAsync();
    }

    [Fact]
    public async Task ReplicaPut_ThenReplicaGet_ReturnsTheStoredObject()
    {
        (PeerClient client, ReplicaStore store, _) = StartReplica("memory", hintsOn: true);
        VersionedObject obj = Write("value");

        ReplicaPutAck ack = (await client.SendAsync(new ReplicaPut(Key("k"), obj.Encode()))).Read<ReplicaPutAck>();
        ReplicaGetReply reply = (await client.SendAsync(new ReplicaGet(Key("k"), PartitionOf("k")))).Read<ReplicaGetReply>();

        Assert.Equal(ReplicaPutStatus.Stored, ack.Status);
        Assert.Equal(ReplicaGetStatus.Found, reply.Status);
        Assert.Equal(obj, VersionedObject.Decode(reply.EncodedObject.Span));
        Assert.Equal(obj, store.Read(Key("k")));
    }

    [Fact]
    public async Task ReplicaPut_ConcurrentObjects_AreMergedIntoSiblings()
    {
        (PeerClient client, ReplicaStore store, _) = StartReplica("sqlite", hintsOn: false);
        VersionedObject mine = Write("mine");
        VersionedObject theirs = VersionedObject.Empty.Update(VersionVector.Empty, new NodeId("other"), Bytes("theirs"), Start, 0);

        await client.SendAsync(new ReplicaPut(Key("k"), mine.Encode()));
        await client.SendAsync(new ReplicaPut(Key("k"), theirs.Encode()));

        ReplicaGetReply reply = (await client.SendAsync(new ReplicaGet(Key("k"), PartitionOf("k")))).Read<ReplicaGetReply>();
        Assert.Equal(mine.Merge(theirs), VersionedObject.Decode(reply.EncodedObject.Span));
        Assert.Equal(1, store.KeyCount);
    }

    [Fact]
    public async Task ReplicaGet_DeletedKey_IsFoundAsATombstone()
    {
        (PeerClient client, ReplicaStore store, _) = StartReplica("memory", hintsOn: false);
        await store.UpdateAsync(Key("k"), null, Coordinator, Bytes("v"), 0);
        VersionedObject deleted = await store.UpdateAsync(Key("k"), null, Coordinator, null, 0);

        ReplicaGetReply reply = (await client.SendAsync(new ReplicaGet(Key("k"), PartitionOf("k")))).Read<ReplicaGetReply>();

        // The tombstone travels, so a coordinator never mistakes "deleted here" for "never written here".
        Assert.Equal(ReplicaGetStatus.Found, reply.Status);
        Assert.Equal(deleted, VersionedObject.Decode(reply.EncodedObject.Span));
    }

    [Fact]
    public async Task ReplicaGet_UnlessDigestOfTheStoredCopy_IsUnchangedWithoutTheValue()
    {
        (PeerClient client, ReplicaStore store, _) = StartReplica("memory", hintsOn: false);
        VersionedObject stored = await store.UpdateAsync(Key("k"), null, Coordinator, Bytes("v"), 0);
        store.Read(Key("k"), out ulong digest);

        ReplicaGetReply same = (await client.SendAsync(new ReplicaGet(Key("k"), PartitionOf("k"), digest))).Read<ReplicaGetReply>();
        ReplicaGetReply other = (await client.SendAsync(new ReplicaGet(Key("k"), PartitionOf("k"), digest ^ 1))).Read<ReplicaGetReply>();

        Assert.NotEqual(0UL, digest);
        Assert.Equal(ReplicaGetStatus.Unchanged, same.Status);
        Assert.True(same.EncodedObject.IsEmpty);
        Assert.Equal(ReplicaGetStatus.Found, other.Status);
        Assert.Equal(stored, VersionedObject.Decode(other.EncodedObject.Span));
    }

    [Fact]
    public async Task ReplicaGet_MissingKey_IsNotFound()
    {
        (PeerClient client, _, _) = StartReplica("memory", hintsOn: false);

        ReplicaGetReply reply = (await client.SendAsync(new ReplicaGet(Key("missing"), PartitionOf("missing")))).Read<ReplicaGetReply>();

        Assert.Equal(ReplicaGetStatus.NotFound, reply.Status);
        Assert.True(reply.EncodedObject.IsEmpty);
    }

    [Fact]
    public async Task ReplicaGet_PartitionThatIsNotTheKeys_IsAMalformedPayloadError()
    {
        (PeerClient client, _, _) = StartReplica("memory", hintsOn: false);
        var wrong = new PartitionId((PartitionOf("k").Value + 1) % TestEngines.Partitioner.PartitionCount);

        PeerResponse response = await client.SendAsync(new ReplicaGet(Key("k"), wrong));

        PeerRemoteException error = Assert.Throws<PeerRemoteException>(() => response.Read<ReplicaGetReply>());
        Assert.Equal(PeerErrorCode.MalformedPayload, error.Code);
        Assert.Contains("partition", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HintedPut_HintsOn_IsStoredAsAHintNotAsAKey()
    {
        (PeerClient client, ReplicaStore store, HintStore? hints) = StartReplica("memory", hintsOn: true);
        VersionedObject obj = Write("for the absent node");

        ReplicaPutAck ack = (await client.SendAsync(new HintedPut(Absent.Value, Key("k"), obj.Encode()))).Read<ReplicaPutAck>();

        Assert.Equal(ReplicaPutStatus.Stored, ack.Status);
        Assert.Equal(new Dictionary<NodeId, long> { [Absent] = 1 }, hints!.CountsByNode());
        Assert.Equal(obj, Assert.Single(hints.Take(Absent, 10)).Object);
        Assert.Equal(0, store.KeyCount);
        Assert.Equal(0, (await client.SendAsync(ReplicaCount.Instance)).Read<ReplicaCountReply>().Count);
    }

    [Fact]
    public async Task HintedPut_HintsOff_IsAnUnavailableError()
    {
        (PeerClient client, _, _) = StartReplica("memory", hintsOn: false);

        PeerResponse response = await client.SendAsync(new HintedPut(Absent.Value, Key("k"), Write("v").Encode()));

        PeerRemoteException error = Assert.Throws<PeerRemoteException>(() => response.Read<ReplicaPutAck>());
        Assert.Equal(PeerErrorCode.Unavailable, error.Code);
        Assert.Contains("hinted handoff is off", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HintedPut_InvalidNodeId_IsAMalformedPayloadError()
    {
        (PeerClient client, _, HintStore? hints) = StartReplica("memory", hintsOn: true);

        PeerResponse response = await client.SendAsync(new HintedPut("has space", Key("k"), Write("v").Encode()));

        Assert.Equal(PeerErrorCode.MalformedPayload, Assert.Throws<PeerRemoteException>(() => response.Read<ReplicaPutAck>()).Code);
        Assert.Equal(0, hints!.Count);
    }

    [Fact]
    public async Task ReplicaCount_AfterPuts_CountsKeysAndTombstones()
    {
        (PeerClient client, ReplicaStore store, _) = StartReplica("memory", hintsOn: false);
        await store.UpdateAsync(Key("live"), null, Coordinator, Bytes("v"), 0);
        await store.UpdateAsync(Key("deleted"), null, Coordinator, null, 0);

        ReplicaCountReply reply = (await client.SendAsync(ReplicaCount.Instance)).Read<ReplicaCountReply>();

        Assert.Equal(2, reply.Count);
    }

    [Fact]
    public async Task ReplicaPut_GarbageObject_IsAnErrorAndTheConnectionServesTheNextRequest()
    {
        (PeerClient client, ReplicaStore store, _) = StartReplica("memory", hintsOn: false);

        PeerResponse response = await client.SendAsync(new ReplicaPut(Key("k"), new byte[] { 0x01, 0xFF, 0xFF, 0xFF }));

        PeerRemoteException error = Assert.Throws<PeerRemoteException>(() => response.Read<ReplicaPutAck>());
        Assert.Equal(PeerErrorCode.MalformedPayload, error.Code);
        Assert.Contains("'k'", error.Message, StringComparison.Ordinal);
        Assert.Null(store.Read(Key("k")));

        Assert.Equal(ReplicaPutStatus.Stored, (await client.SendAsync(new ReplicaPut(Key("k"), Write("v").Encode()))).Read<ReplicaPutAck>().Status);
        Assert.Equal(1, (await client.SendAsync(ReplicaCount.Instance)).Read<ReplicaCountReply>().Count);
        Assert.True(client.IsConnected);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("rocksdb")]
    public async Task ReplicaPut_ManySentTogether_EveryOneStoredAndAcknowledged(string engine)
    {
        // Sent without waiting, the puts reach the listener several to a read and are stored in runs
        // (HandleRunAsync); two concurrent versions of one key in the same burst must end as its siblings.
        (PeerClient client, ReplicaStore store, _) = StartReplica(engine, hintsOn: false);
        await client.ConnectAsync();
        VersionedObject mine = Write("mine");
        VersionedObject theirs = VersionedObject.Empty.Update(VersionVector.Empty, new NodeId("other"), Bytes("theirs"), Start, 0);
        List<Task<PeerResponse>> sends = [.. Enumerable.Range(0, 300).Select(i => client.SendAsync(new ReplicaPut(Key($"k{i}"), Write($"v{i}").Encode())))];
        sends.Add(client.SendAsync(new ReplicaPut(Key("twin"), mine.Encode())));
        sends.Add(client.SendAsync(new ReplicaPut(Key("twin"), theirs.Encode())));

        PeerResponse[] responses = await Task.WhenAll(sends).WaitAsync(PeerTestCluster.Patience);

        Assert.All(responses, r => Assert.Equal(ReplicaPutStatus.Stored, r.Read<ReplicaPutAck>().Status));
        Assert.Equal(301, store.KeyCount);
        Assert.All(Enumerable.Range(0, 300), i => Assert.Equal(Write($"v{i}"), store.Read(Key($"k{i}"))));
        Assert.Equal(mine.Merge(theirs), store.Read(Key("twin")));
    }

    [Fact]
    public async Task HandleRunAsync_ADamagedRecordAndAMalformedPut_EachAnsweredAloneAndTheRestStored()
    {
        var store = new ReplicaStore(_engines.Open("memory"), _clock);
        var handler = new ReplicaRequestHandler(store, null, TestEngines.Partitioner, NullLogger.Instance);
        await store.Engine.ExecuteAsync(new RawWriteOperation(Key("rotten"), [0x02]), Start);
        PeerIncomingRequest[] run =
        [
            PutRequest(1, new ReplicaPut(Key("a"), Write("a").Encode())),
            PutRequest(2, new ReplicaPut(Key("rotten"), Write("r").Encode())),
            PutRequest(3, new ReplicaPut(Key("garbage"), new byte[] { 0x01, 0xFF, 0xFF, 0xFF })),
            PutRequest(4, new ReplicaPut(Key("b"), Write("b").Encode())),
        ];
        var replies = new RecordingReplySink();

        await handler.HandleRunAsync(run, replies, CancellationToken.None);

        // The merge into the damaged record fails the run's storage operation; each put is then merged alone.
        Assert.Equal([1UL, 2UL, 3UL, 4UL], replies.Answers.Keys.Order());
        Assert.IsType<ReplicaPutAck>(replies.Answers[1]);
        Assert.Equal(PeerErrorCode.Internal, Assert.IsType<ErrorMessage>(replies.Answers[2]).Code);
        Assert.Equal(PeerErrorCode.MalformedPayload, Assert.IsType<ErrorMessage>(replies.Answers[3]).Code);
        Assert.IsType<ReplicaPutAck>(replies.Answers[4]);
        Assert.Equal(Write("a"), store.Read(Key("a")));
        Assert.Equal(Write("b"), store.Read(Key("b")));
        Assert.Null(store.Read(Key("garbage")));
    }

    [Fact]
    public async Task ReplicaPut_TruncatedPayload_IsAnErrorAndTheConnectionStaysUp()
    {
        (PeerClient client, _, _) = StartReplica("memory", hintsOn: false);

        PeerResponse response = await client.SendAsync(new PeerRawPayload(PeerMessageType.ReplicaPut, new byte[] { 0x05, 0x00 }));

        Assert.Equal(PeerErrorCode.MalformedPayload, Assert.Throws<PeerRemoteException>(() => response.Read<ReplicaPutAck>()).Code);
        Assert.Equal(0, (await client.SendAsync(ReplicaCount.Instance)).Read<ReplicaCountReply>().Count);
    }

    [Fact]
    public async Task ReplicaGet_CorruptStoredRecord_PassedThroughAndRejectedByTheDecoder()
    {
        // A replica read sends the stored bytes as they are (no decode and re-encode per read); the coordinator
        // decodes them, so a damaged record fails there (and counts as that replica's failed read).
        (PeerClient client, ReplicaStore store, _) = StartReplica("memory", hintsOn: false);
        await store.Engine.ExecuteAsync(new RawWriteOperation(Key("rotten"), [0x02]), Start);

        PeerResponse response = await client.SendAsync(new ReplicaGet(Key("rotten"), PartitionOf("rotten")));

        ReplicaGetReply reply = response.Read<ReplicaGetReply>();
        Assert.Equal(ReplicaGetStatus.Found, reply.Status);
        Assert.Equal([0x02], reply.EncodedObject.ToArray());
        Assert.Throws<FormatException>(() => VersionedObject.Decode(reply.EncodedObject.Span));
    }

    [Fact]
    public async Task UnservedMessageType_IsAnUnknownMessageTypeError()
    {
        (PeerClient client, _, _) = StartReplica("memory", hintsOn: false);

        PeerResponse response = await client.SendAsync(new ReplicaPutAck(ReplicaPutStatus.Stored));

        Assert.Equal(PeerErrorCode.UnknownMessageType, Assert.Throws<PeerRemoteException>(() => response.Read<ReplicaPutAck>()).Code);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task ReplicaDelta_JoinedOnceEvenWhenSentTwice_StoresTheTypedKeyAndAcks(string engine)
    {
        (PeerClient client, ReplicaStore store, _) = StartReplica(engine, hintsOn: false);
        KeyDelta delta = FieldWrite("f", "v");

        ReplicaPutAck first = (await client.SendAsync(new ReplicaDelta(Key("h"), delta.Encode()))).Read<ReplicaPutAck>();
        ReplicaPutAck again = (await client.SendAsync(new ReplicaDelta(Key("h"), delta.Encode()))).Read<ReplicaPutAck>();

        Assert.Equal(ReplicaPutStatus.Stored, first.Status);
        Assert.Equal(ReplicaPutStatus.Stored, again.Status);
        Assert.True(store.Engine.TryRead(Key("h"), Start, out StoredRecord record));
        Assert.True(record.IsTypedHeader);
        Assert.Equal(1, TypedKeyRecord.CountOf(record.Value));
        Assert.True(store.Engine.TryReadElement(Key("h"), Key("f"), out byte[]? element));
        Assert.Equal("v", Encoding.UTF8.GetString(Assert.Single(ElementState.Decode(element).Writes).Value!));
    }

    [Fact]
    public async Task ReplicaDelta_GarbageDelta_IsMalformedAndStoresNothing()
    {
        (PeerClient client, ReplicaStore store, _) = StartReplica("memory", hintsOn: false);

        PeerResponse response = await client.SendAsync(new ReplicaDelta(Key("h"), new byte[] { 0x01, 0x00, 0x05 }));

        PeerRemoteException error = Assert.Throws<PeerRemoteException>(() => response.Read<ReplicaPutAck>());
        Assert.Equal(PeerErrorCode.MalformedPayload, error.Code);
        Assert.Contains("'h'", error.Message, StringComparison.Ordinal);
        Assert.False(store.Engine.TryRead(Key("h"), Start, out _));
        Assert.True(client.IsConnected);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task ReplicaBatch_OfObjectsAndADelta_StoresThemAllAndAcks(string engine)
    {
        (PeerClient client, ReplicaStore store, _) = StartReplica(engine, hintsOn: false);
        VersionedObject first = Write("one");
        VersionedObject second = Write("two");

        var batch = new ReplicaBatch(
        [
            new ReplicaBatchEntry(ReplicaBatchEntryKind.VersionedObject, Key("{t}a"), first.Encode()),
            new ReplicaBatchEntry(ReplicaBatchEntryKind.Delta, Key("{t}h"), FieldWrite("f", "v").Encode()),
            new ReplicaBatchEntry(ReplicaBatchEntryKind.VersionedObject, Key("{t}b"), second.Encode()),
        ]);
        ReplicaPutAck ack = (await client.SendAsync(batch)).Read<ReplicaPutAck>();

        Assert.Equal(ReplicaPutStatus.Stored, ack.Status);
        Assert.Equal(first, store.Read(Key("{t}a")));
        Assert.Equal(second, store.Read(Key("{t}b")));
        Assert.True(store.Engine.TryReadElement(Key("{t}h"), Key("f"), out byte[]? element));
        Assert.Equal("v", Encoding.UTF8.GetString(Assert.Single(ElementState.Decode(element).Writes).Value!));
    }

    [Fact]
    public async Task ReplicaBatch_OneMalformedEntry_RefusesTheWholeBatch_AndStoresNothing()
    {
        (PeerClient client, ReplicaStore store, _) = StartReplica("memory", hintsOn: false);

        var batch = new ReplicaBatch(
        [
            new ReplicaBatchEntry(ReplicaBatchEntryKind.VersionedObject, Key("{t}a"), Write("one").Encode()),
            new ReplicaBatchEntry(ReplicaBatchEntryKind.Delta, Key("{t}h"), new byte[] { 0x01, 0x00, 0x05 }),
        ]);
        PeerResponse response = await client.SendAsync(batch);

        PeerRemoteException error = Assert.Throws<PeerRemoteException>(() => response.Read<ReplicaPutAck>());
        Assert.Equal(PeerErrorCode.MalformedPayload, error.Code);
        Assert.Null(store.Read(Key("{t}a")));
        Assert.False(store.Engine.TryRead(Key("{t}h"), Start, out _));
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task ReplicaBatch_APartThatFails_LeavesEveryKeyAsItWas()
    {
        var store = new ReplicaStore(_engines.Open("memory"), _clock);
        await store.MergeAsync(Key("{t}a"), Write("before"));

        // The batch's parts run in one storage operation: the second failing undoes the first.
        var failing = new ReplicaBatchOperation([new OverwriteOperation(Key("{t}a"), "after"), new FailingOperation()]);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.Engine.ExecuteAsync(failing, Start));

        Assert.Equal(Write("before"), store.Read(Key("{t}a")));
    }

    /// <summary>Replaces a key's record with a plain object of <paramref name="value"/>.</summary>
    private sealed class OverwriteOperation(byte[] key, string value) : IStorageOperation
    {
        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => key;

        public void Execute(IStorageTransaction transaction) => transaction.Write(key, new StoredRecord(Write(value).Encode(), 0));
    }

    private sealed class FailingOperation : IStorageOperation
    {
        public int TouchedKeyCount => 0;

        public byte[] GetTouchedKey(int index) => throw new ArgumentOutOfRangeException(nameof(index));

        public void Execute(IStorageTransaction transaction) => throw new InvalidOperationException("this part fails");
    }

    [Fact]
    public async Task ReplicaGet_OfATypedKey_AnswersTypedAndTheKeyStaysOutOfHandoff()
    {
        (PeerClient client, ReplicaStore store, _) = StartReplica("memory", hintsOn: false);
        await client.SendAsync(new ReplicaDelta(Key("h"), FieldWrite("f", "v").Encode()));

        PeerResponse response = await client.SendAsync(new ReplicaGet(Key("h"), PartitionOf("h")));

        // The coordinator reads such a key through the typed path (ReplicaReadElements) instead.
        Assert.Equal(ReplicaGetStatus.Typed, response.Read<ReplicaGetReply>().Status);
        Assert.Empty(store.ReadPartition(PartitionOf("h")));
    }

    private static KeyDelta FieldWrite(string field, string value)
    {
        Dot created = new(Coordinator, 1);
        KeyHeader header = KeyHeader.Create(DataType.Hash, new Stamp(Start, created)).WithContext(DotContext.Of([created]));
        ElementDelta write = ElementDelta.Assign(ElementState.Empty, header.Context, Coordinator, Start, Bytes(value));
        return new KeyDelta(header, [new(Key(field), write)]);
    }

    private static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);

    private static PeerIncomingRequest PutRequest(ulong requestId, ReplicaPut put)
    {
        var payload = new ArrayBufferWriter<byte>();
        put.Write(payload);
        return new PeerIncomingRequest(PeerMessageType.ReplicaPut, requestId, payload.WrittenMemory, PeerTestCluster.ClientIdentity);
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static PartitionId PartitionOf(string key) => TestEngines.Partitioner.PartitionOf(Key(key));

    private static VersionedObject Write(string value) =>
        VersionedObject.Empty.Update(VersionVector.Empty, Coordinator, Bytes(value), Start, 0);

    private (PeerClient Client, ReplicaStore Store, HintStore? Hints) StartReplica(string kind, bool hintsOn)
    {
        var store = new ReplicaStore(_engines.Open(kind), _clock);
        HintStore? hints = hintsOn ? new HintStore(_engines.Open(kind, "hints"), _clock) : null;
        var handler = new ReplicaRequestHandler(store, hints, TestEngines.Partitioner, NullLogger.Instance);
        PeerListener listener = _cluster.StartListener(handler);
        return (_cluster.Client(listener), store, hints);
    }
}
