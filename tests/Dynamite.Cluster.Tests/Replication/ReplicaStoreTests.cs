using System.Text;
using Dynamite.Cluster.AntiEntropy;
using Dynamite.Cluster.Replication;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.KeyValue;
using Dynamite.Core.DataTypes;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Versioning;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Dynamite.Cluster.Tests.Replication;

public sealed class ReplicaStoreTests : IAsyncLifetime
{
    private const long Start = 1_700_000_000_000;

    private static readonly NodeId NodeA = new("node-a");
    private static readonly NodeId NodeB = new("node-b");

    private readonly TestEngines _engines = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeMilliseconds(Start));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _engines.DisposeAsync();

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task UpdateAsync_ThenRead_ReturnsOneSiblingWithTheValue(string kind)
    {
        ReplicaStore store = Open(kind);

        VersionedObject written = await store.UpdateAsync(Key("k"), null, NodeA, Bytes("v1"), 0);

        VersionedObject? read = store.Read(Key("k"));
        Assert.Equal(written, read);
        Sibling sibling = Assert.Single(read!.Siblings);
        Assert.Equal("v1", Text(sibling.Value));
        Assert.Equal(new Dot(NodeA, 1), sibling.Dot);
        Assert.Equal(Start, sibling.TimestampUnixMs);
        Assert.Equal(1, store.KeyCount);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task MergeAsync_OfAStringOverATypedKey_ReplacesItOnlyWhenWrittenAfterItsCreation(string kind)
    {
        ReplicaStore store = Open(kind);
        await store.TypedKeys.JoinAsync(Key("h"), HashCreatedAt(Start, "f"));
        await store.TypedKeys.JoinAsync(Key("g"), HashCreatedAt(Start, "f"));

        VersionedObject earlier = VersionedObject.Empty.Update(VersionVector.Empty, NodeB, Bytes("earlier"), Start - 5, 0);
        VersionedObject later = VersionedObject.Empty.Update(VersionVector.Empty, NodeB, Bytes("later"), Start + 5, 0);
        await store.MergeAsync(Key("h"), earlier);
        await store.MergeAsync(Key("g"), later);

        Assert.Throws<TypedKeyException>(() => store.Read(Key("h")));
        Assert.Equal("later", Text(store.Read(Key("g"))!.ResolveLastWriterWins()!.Value));
        Assert.False(store.Engine.TryReadElement(Key("g"), Key("f"), out _));
    }

    [Fact]
    public async Task UpdateAsync_OverATypedKey_ReplacesIt()
    {
        ReplicaStore store = Open("memory");
        await store.TypedKeys.JoinAsync(Key("h"), HashCreatedAt(Start - 10, "f"));

        await store.UpdateAsync(Key("h"), null, NodeA, Bytes("v"), 0);

        Assert.Equal("v", Text(store.Read(Key("h"))!.ResolveLastWriterWins()!.Value));
        Assert.False(store.Engine.TryReadElement(Key("h"), Key("f"), out _));
    }

    private static KeyDelta HashCreatedAt(long createdAt, string field)
    {
        Dot created = new(NodeB, 1);
        KeyHeader header = KeyHeader.Create(DataType.Hash, new Stamp(createdAt, created)).WithContext(DotContext.Of([created]));
        return new KeyDelta(header, [new(Key(field), ElementDelta.Assign(ElementState.Empty, header.Context, NodeB, createdAt, Bytes("v")))]);
    }

    [Fact]
    public async Task MergeAsync_AfterAFlushHorizon_DropsTheWritesStampedBeforeItAndKeepsTheLaterOnes()
    {
        ReplicaStore store = Open("memory");
        VersionedObject old = VersionedObject.Empty.Update(VersionVector.Empty, NodeB, Bytes("old"), Start - 10, 0);
        VersionedObject both = old.Merge(VersionedObject.Empty.Update(VersionVector.Empty, NodeA, Bytes("new"), Start + 10, 0));
        store.FlushedBeforeUnixMs = Start;
        store.FlushedBeforeUnixMs = Start - 100; // a horizon only grows

        VersionedObject afterOld = await store.MergeAsync(Key("old"), old);
        VersionedObject afterBoth = await store.MergeAsync(Key("both"), both);

        Assert.Equal(Start, store.FlushedBeforeUnixMs);
        Assert.True(afterOld.IsEmpty);
        Assert.Null(store.Read(Key("old")));
        Assert.Equal("new", Text(Assert.Single(afterBoth.Siblings).Value));
        Assert.Equal(1, store.KeyCount);
    }

    [Fact]
    public async Task UpdateAsync_OnAClockBehindTheFlushHorizon_StampsTheWriteAfterIt()
    {
        ReplicaStore store = Open("memory");
        store.FlushedBeforeUnixMs = Start + 5_000;

        VersionedObject written = await store.UpdateAsync(Key("k"), null, NodeA, Bytes("v"), 0);

        Assert.Equal(Start + 5_001, Assert.Single(written.Siblings).TimestampUnixMs);
    }

    [Fact]
    public void Read_MissingKey_ReturnsNull()
    {
        ReplicaStore store = Open("memory");

        Assert.Null(store.Read(Key("missing")));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task UpdateAsync_NullContext_SupersedesEverySiblingThisReplicaHolds(string kind)
    {
        ReplicaStore store = Open(kind);
        await store.UpdateAsync(Key("k"), null, NodeA, Bytes("from a"), 0);
        VersionedObject concurrent = VersionedObject.Empty.Update(VersionVector.Empty, NodeB, Bytes("from b"), Start, 0);
        VersionedObject both = await store.MergeAsync(Key("k"), concurrent);
        Assert.Equal(2, both.Siblings.Length);

        VersionedObject written = await store.UpdateAsync(Key("k"), null, NodeA, Bytes("last"), 0);

        Sibling only = Assert.Single(written.Siblings);
        Assert.Equal("last", Text(only.Value));
        Assert.Equal(new Dot(NodeA, 2), only.Dot);
        Assert.Equal(written, store.Read(Key("k")));
    }

    [Fact]
    public async Task UpdateAsync_OldClientContext_KeepsTheSiblingTheClientHasNotSeen()
    {
        ReplicaStore store = Open("memory");
        VersionedObject first = await store.UpdateAsync(Key("k"), null, NodeA, Bytes("v1"), 0);
        VersionVector readByClient = first.Context;

        // Another coordinator's client read the same v1 and wrote v2; that write reaches this replica.
        VersionedObject viaB = first.Update(readByClient, NodeB, Bytes("v2"), Start + 1, 0);
        await store.MergeAsync(Key("k"), viaB);

        VersionedObject written = await store.UpdateAsync(Key("k"), readByClient, NodeA, Bytes("v3"), 0);

        Assert.Equal(["v2", "v3"], written.Siblings.Select(s => Text(s.Value)).Order());
        Assert.Equal(written, store.Read(Key("k")));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task MergeAsync_SameObjectTwice_IsIdempotentAndWritesOnlyOnce(string kind)
    {
        var engine = new WriteCountingEngine(_engines.Open(kind));
        var store = new ReplicaStore(engine, _clock);
        VersionedObject incoming = VersionedObject.Empty.Update(VersionVector.Empty, NodeB, Bytes("v"), Start, 0);

        VersionedObject first = await store.MergeAsync(Key("k"), incoming);
        VersionedObject second = await store.MergeAsync(Key("k"), incoming);

        Assert.Equal(incoming, first);
        Assert.Equal(incoming, second);
        Assert.Equal(incoming, store.Read(Key("k")));
        Assert.Equal(1, engine.StagedWrites);
    }

    [Fact]
    public async Task MergeAsync_ConcurrentObject_ReturnsTheMergedSiblings()
    {
        ReplicaStore store = Open("memory");
        VersionedObject local = await store.UpdateAsync(Key("k"), null, NodeA, Bytes("a"), 0);
        VersionedObject remote = VersionedObject.Empty.Update(VersionVector.Empty, NodeB, Bytes("b"), Start, 0);

        VersionedObject merged = await store.MergeAsync(Key("k"), remote);

        Assert.Equal(local.Merge(remote), merged);
        Assert.Equal(["a", "b"], merged.Siblings.Select(s => Text(s.Value)));
        Assert.Equal(merged, store.Read(Key("k")));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task MergeAsync_ManyConcurrentWritersOfOneKey_KeepsEverySibling(string kind)
    {
        ReplicaStore store = Open(kind);
        VersionedObject[] writes = [.. Enumerable.Range(0, 40).Select(i =>
            VersionedObject.Empty.Update(VersionVector.Empty, new NodeId($"writer-{i}"), Bytes($"v{i}"), Start, 0))];

        await Task.WhenAll(writes.Select(w => Task.Run(async () => await store.MergeAsync(Key("k"), w))));

        VersionedObject expected = writes.Aggregate(VersionedObject.Empty, (acc, w) => acc.Merge(w));
        Assert.Equal(expected, store.Read(Key("k")));
        Assert.Equal(40, expected.Siblings.Length);
    }

    [Fact]
    public async Task MergeAsync_OlderObject_KeepsTheNewerAndWritesNothing()
    {
        var engine = new WriteCountingEngine(_engines.Open("memory"));
        var store = new ReplicaStore(engine, _clock);
        VersionedObject old = await store.UpdateAsync(Key("k"), null, NodeA, Bytes("old"), 0);
        VersionedObject current = await store.UpdateAsync(Key("k"), null, NodeA, Bytes("new"), 0);

        VersionedObject merged = await store.MergeAsync(Key("k"), old);

        Assert.Equal(current, merged);
        Assert.Equal(2, engine.StagedWrites);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task UpdateAsync_NullValue_LeavesATombstoneThatCountsAsAKey(string kind)
    {
        ReplicaStore store = Open(kind);
        await store.UpdateAsync(Key("k"), null, NodeA, Bytes("v"), 0);

        VersionedObject deleted = await store.UpdateAsync(Key("k"), null, NodeA, null, 0);

        VersionedObject? read = store.Read(Key("k"));
        Assert.Equal(deleted, read);
        Assert.True(Assert.Single(read!.Siblings).IsTombstone);
        Assert.False(read.HasLiveValue);
        Assert.Equal(2, read.Context.Get(NodeA));
        Assert.Equal(1, store.KeyCount);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task RecordExpiry_EverySiblingExpires_IsTheLatestSiblingExpiry(string kind)
    {
        ReplicaStore store = Open(kind);
        await store.UpdateAsync(Key("k"), null, NodeA, Bytes("a"), Start + 1000);
        Assert.Equal(Start + 1000, EngineRecord(store, "k").ExpiresAtUnixMs);

        VersionedObject concurrent = VersionedObject.Empty.Update(VersionVector.Empty, NodeB, Bytes("b"), Start, Start + 5000);
        await store.MergeAsync(Key("k"), concurrent);
        Assert.Equal(Start + 5000, EngineRecord(store, "k").ExpiresAtUnixMs);

        // After the first sibling expired the object is still there (the coordinator hides that sibling)...
        _clock.Advance(TimeSpan.FromMilliseconds(2000));
        Assert.Equal(2, store.Read(Key("k"))!.Siblings.Length);

        // ...and once the last one expired, the engine drops it and its sweep removes it.
        _clock.Advance(TimeSpan.FromMilliseconds(3000));
        Assert.Null(store.Read(Key("k")));
        Assert.Equal(1, await store.Engine.RemoveExpiredAsync(_clock.GetUtcNow().ToUnixTimeMilliseconds(), 100));
        Assert.Equal(0, store.KeyCount);
    }

    [Fact]
    public async Task RecordExpiry_OneSiblingNeverExpires_IsNever()
    {
        ReplicaStore store = Open("memory");
        await store.UpdateAsync(Key("k"), null, NodeA, Bytes("a"), Start + 1000);

        VersionedObject forever = VersionedObject.Empty.Update(VersionVector.Empty, NodeB, Bytes("b"), Start, 0);
        await store.MergeAsync(Key("k"), forever);

        Assert.Equal(0, EngineRecord(store, "k").ExpiresAtUnixMs);
        _clock.Advance(TimeSpan.FromMilliseconds(10_000));
        Assert.Equal(2, store.Read(Key("k"))!.Siblings.Length);
    }

    [Fact]
    public async Task RecordExpiry_TombstoneSibling_IsNever()
    {
        ReplicaStore store = Open("memory");

        await store.UpdateAsync(Key("k"), null, NodeA, null, Start + 1000);

        Assert.Equal(0, EngineRecord(store, "k").ExpiresAtUnixMs);
        _clock.Advance(TimeSpan.FromMilliseconds(10_000));
        Assert.True(Assert.Single(store.Read(Key("k"))!.Siblings).IsTombstone);
    }

    [Fact]
    public async Task Read_CorruptStoredValue_ThrowsInvalidDataExceptionNamingTheKey()
    {
        ReplicaStore store = Open("memory");
        await store.Engine.ExecuteAsync(new RawWriteOperation(Key("broken"), [0xFF, 0x01, 0x02]), Start);

        InvalidDataException read = Assert.Throws<InvalidDataException>(() => store.Read(Key("broken")));
        Assert.Contains("'broken'", read.Message, StringComparison.Ordinal);

        VersionedObject incoming = VersionedObject.Empty.Update(VersionVector.Empty, NodeB, Bytes("v"), Start, 0);
        await Assert.ThrowsAsync<InvalidDataException>(async () => await store.MergeAsync(Key("broken"), incoming));
        await Assert.ThrowsAsync<InvalidDataException>(async () => await store.UpdateAsync(Key("broken"), null, NodeA, Bytes("v"), 0));

        // A failed operation wrote nothing: the corrupt record is still there for an operator to see.
        Assert.True(store.Engine.TryRead(Key("broken"), Start, out StoredRecord record));
        Assert.Equal([0xFF, 0x01, 0x02], record.Value);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task ReadPartition_ReturnsTheDecodedObjectsOfThatPartitionOnly(string kind)
    {
        ReplicaStore store = Open(kind);
        var written = new Dictionary<string, VersionedObject>();
        for (int i = 0; i < 50; i++)
        {
            written[$"key-{i}"] = await store.UpdateAsync(Key($"key-{i}"), null, NodeA, Bytes($"value-{i}"), 0);
        }

        PartitionId partition = TestEngines.Partitioner.PartitionOf(Key("key-7"));

        var read = store.ReadPartition(partition).ToDictionary(entry => Encoding.UTF8.GetString(entry.Key), entry => entry.Object);

        var expected = written.Where(pair => TestEngines.Partitioner.PartitionOf(Key(pair.Key)) == partition).ToDictionary();
        Assert.Equal(expected, read);
        Assert.Contains("key-7", read.Keys);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task DeleteTombstoneIfDigestAsync_DigestEqual_RemovesTheKeyAndTheTreeForgetsIt(string kind)
    {
        var trees = new AntiEntropyTrees(TestEngines.Partitioner);
        var store = new ReplicaStore(_engines.Open(kind), _clock, trees);
        PartitionId partition = TestEngines.Partitioner.PartitionOf(Key("gone"));
        ulong emptyRoot = trees.With(partition, tree => tree.Root);
        await store.UpdateAsync(Key("gone"), null, NodeA, Bytes("v"), 0);
        await store.UpdateAsync(Key("gone"), null, NodeA, null, 0);
        Assert.NotEqual(emptyRoot, trees.With(partition, tree => tree.Root));

        bool removed = await store.DeleteTombstoneIfDigestAsync(Key("gone"), DigestOf(store, "gone"));

        Assert.True(removed);
        Assert.Null(store.Read(Key("gone")));
        Assert.Equal(0, store.KeyCount);
        Assert.Equal(emptyRoot, trees.With(partition, tree => tree.Root));
        Assert.Equal(RebuiltRoot(store, partition), trees.With(partition, tree => tree.Root));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task DeleteTombstoneIfDigestAsync_ObjectChangedSince_KeepsItAndTheTree(string kind)
    {
        var trees = new AntiEntropyTrees(TestEngines.Partitioner);
        var store = new ReplicaStore(_engines.Open(kind), _clock, trees);
        PartitionId partition = TestEngines.Partitioner.PartitionOf(Key("k"));
        await store.UpdateAsync(Key("k"), null, NodeA, null, 0);
        ulong confirmed = DigestOf(store, "k");

        // A concurrent write lands after the collector confirmed the digest: it must survive.
        VersionedObject concurrent = VersionedObject.Empty.Update(VersionVector.Empty, NodeB, Bytes("new"), Start, 0);
        VersionedObject now = await store.MergeAsync(Key("k"), concurrent);
        ulong rootBefore = trees.With(partition, tree => tree.Root);

        bool removed = await store.DeleteTombstoneIfDigestAsync(Key("k"), confirmed);

        Assert.False(removed);
        Assert.Equal(now, store.Read(Key("k")));
        Assert.Equal(rootBefore, trees.With(partition, tree => tree.Root));
        Assert.Equal(RebuiltRoot(store, partition), rootBefore);
    }

    [Fact]
    public async Task DeleteTombstoneIfDigestAsync_LiveValueWithThatDigest_KeepsIt()
    {
        ReplicaStore store = Open("memory");
        await store.UpdateAsync(Key("live"), null, NodeA, Bytes("v"), 0);

        bool removed = await store.DeleteTombstoneIfDigestAsync(Key("live"), DigestOf(store, "live"));

        Assert.False(removed);
        Assert.Equal("v", Text(Assert.Single(store.Read(Key("live"))!.Siblings).Value));
    }

    [Fact]
    public async Task DeleteTombstoneIfDigestAsync_AbsentKey_ReturnsFalse()
    {
        ReplicaStore store = Open("memory");

        Assert.False(await store.DeleteTombstoneIfDigestAsync(Key("missing"), 42));
        Assert.Equal(0, store.KeyCount);
    }

    private static ulong DigestOf(ReplicaStore store, string key) => PartitionMerkleTree.KeyDigest(Key(key), EngineRecord(store, key).Value);

    private static ulong RebuiltRoot(ReplicaStore store, PartitionId partition)
    {
        var rebuilt = new AntiEntropyTrees(TestEngines.Partitioner);
        rebuilt.Rebuild(store.Engine, partition, Start);
        return rebuilt.With(partition, tree => tree.Root);
    }

    private static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string? Text(byte[]? bytes) => bytes is null ? null : Encoding.UTF8.GetString(bytes);

    private static StoredRecord EngineRecord(ReplicaStore store, string key)
    {
        Assert.True(store.Engine.TryRead(Key(key), Start, out StoredRecord record));
        return record;
    }

    private ReplicaStore Open(string kind) => new(_engines.Open(kind), _clock);
}
