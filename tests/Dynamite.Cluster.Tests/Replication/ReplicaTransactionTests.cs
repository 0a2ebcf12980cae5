using System.Text;
using Dynamite.Cluster.AntiEntropy;
using Dynamite.Cluster.Replication;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Versioning;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Dynamite.Cluster.Tests.Replication;

/// <summary>
/// A primary's staged transaction (<see cref="ReplicaTransaction"/>): its writes are invisible to the engine and to the
/// listener until its one commit, its reads see them, and what it hands the other replicas is each string key's final
/// object and every typed change, in order.
/// </summary>
public sealed class ReplicaTransactionTests : IAsyncLifetime
{
    private const long Start = 1_700_000_000_000;

    private static readonly NodeId Self = new("node-a");

    private readonly TestEngines _engines = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeMilliseconds(Start));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _engines.DisposeAsync();

    [Theory]
    [InlineData("memory")]
    [InlineData("rocksdb")]
    [InlineData("sqlite")]
    public async Task StagedWrites_AreSeenByTheTransactionOnly_UntilOneCommitStoresThemAll(string kind)
    {
        var trees = new AntiEntropyTrees(TestEngines.Partitioner);
        var store = new ReplicaStore(_engines.Open(kind), _clock, trees);
        PartitionId partition = TestEngines.Partitioner.PartitionOf(Key("{t}a"));
        ulong emptyRoot = trees.With(partition, tree => tree.Root);
        long commitsBefore = store.Engine.ChangedRecordCount;
        ReplicaTransaction transaction = store.BeginTransaction(partition, Self);

        await transaction.UpdateAsync(new ReplicaUpdate(Key("{t}a"), null, Bytes("1"), null, 0));
        await transaction.UpdateAsync(new ReplicaUpdate(Key("{t}a"), null, Bytes("2"), null, 0));
        await transaction.CoordinateAsync(new Increment(Key("{t}n"), 5));
        await transaction.CoordinateAsync(new Increment(Key("{t}n"), 2));

        // The transaction reads its own writes; the engine, its readers and the Merkle trees know nothing of them.
        Assert.Equal("2", Text(Assert.Single(transaction.Read(Key("{t}a"), out _)!.Siblings).Value));
        ReplicaElements counter = await transaction.ReadElementsAsync(Key("{t}n"), ElementSelection.Page(null, 10));
        Assert.Equal(StoredKeyKind.Typed, counter.Kind);
        Assert.Null(store.Read(Key("{t}a")));
        Assert.Equal(StoredKeyKind.None, store.TypedKeys.Read(Key("{t}n"), ElementSelection.Page(null, 10)).Kind);
        Assert.Equal(emptyRoot, trees.With(partition, tree => tree.Root));
        Assert.Equal(commitsBefore, store.Engine.ChangedRecordCount);

        // What the other replicas get: the string's final object once (its earlier one superseded), both increments.
        Assert.Collection(
            transaction.Changes,
            change =>
            {
                Assert.Equal("{t}a", Text(change.Key));
                Assert.Equal("2", Text(Assert.Single(change.Incoming!.Siblings).Value));
            },
            change => Assert.NotNull(change.Delta),
            change => Assert.NotNull(change.Delta));

        await transaction.CommitHereAsync();
        transaction.Clear();

        Assert.Equal("2", Text(Assert.Single(store.Read(Key("{t}a"))!.Siblings).Value));
        Assert.Equal(7, CounterValue(store, Key("{t}n")));
        Assert.True(transaction.IsEmpty);
        var rebuilt = new AntiEntropyTrees(TestEngines.Partitioner);
        rebuilt.Rebuild(store.Engine, partition, Start);
        Assert.Equal(rebuilt.With(partition, tree => tree.Root), trees.With(partition, tree => tree.Root));
    }

    [Fact]
    public async Task ChangesApplied_OnAnotherReplica_InOneBatch_GiveItTheSameState()
    {
        ReplicaStore coordinator = new(_engines.Open("memory"), _clock);
        ReplicaStore replica = new(_engines.Open("memory"), _clock);
        PartitionId partition = TestEngines.Partitioner.PartitionOf(Key("{t}a"));
        ReplicaTransaction transaction = coordinator.BeginTransaction(partition, Self);
        await transaction.UpdateAsync(new ReplicaUpdate(Key("{t}a"), null, Bytes("x"), null, 0));
        await transaction.CoordinateAsync(new Increment(Key("{t}n"), 3));
        await transaction.UpdateBatchAsync([new ReplicaUpdate(Key("{t}b"), null, Bytes("y"), null, 0), new ReplicaUpdate(Key("{t}a"), null, null, null, 0)]);

        await transaction.CommitHereAsync();
        await replica.ApplyBatchAsync([.. transaction.Changes]);

        foreach (string key in new[] { "{t}a", "{t}b" })
        {
            Assert.Equal(coordinator.Read(Key(key)), replica.Read(Key(key)));
        }

        Assert.False(coordinator.Read(Key("{t}a"))!.HasLiveValue);
        Assert.Equal(3, CounterValue(replica, Key("{t}n")));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("rocksdb")]
    public async Task AReplicaWriteThatLandsBetweenStagingAndCommit_IsKept(string kind)
    {
        var trees = new AntiEntropyTrees(TestEngines.Partitioner);
        var store = new ReplicaStore(_engines.Open(kind), _clock, trees);
        PartitionId partition = TestEngines.Partitioner.PartitionOf(Key("{t}a"));
        ReplicaTransaction transaction = store.BeginTransaction(partition, Self);
        await transaction.UpdateAsync(new ReplicaUpdate(Key("{t}a"), null, Bytes("mine"), null, 0));
        await transaction.CoordinateAsync(new Increment(Key("{t}n"), 5));

        // Another coordinator's writes reach this replica meanwhile (the isolation gate holds off only this node's clients).
        NodeId other = new("node-b");
        await store.MergeAsync(Key("{t}a"), VersionedObject.Empty.Update(VersionVector.Empty, other, Bytes("theirs"), Start, 0));
        await store.TypedKeys.CoordinateAsync(new Increment(Key("{t}n"), 2), other);

        await transaction.CommitHereAsync();

        // Both survive: the concurrent string as a sibling, the concurrent increment joined.
        Assert.Equal(["mine", "theirs"], store.Read(Key("{t}a"))!.Siblings.Select(sibling => Text(sibling.Value)).Order());
        Assert.Equal(7, CounterValue(store, Key("{t}n")));
        var rebuilt = new AntiEntropyTrees(TestEngines.Partitioner);
        rebuilt.Rebuild(store.Engine, partition, Start);
        Assert.Equal(rebuilt.With(partition, tree => tree.Root), trees.With(partition, tree => tree.Root));
    }

    [Fact]
    public async Task AWriteThisNodeCoordinatesMeanwhile_UnderItsOwnActor_IsKeptBesideTheTransactions()
    {
        // A transaction's dots are its own actor's (the coordinator's TransactionActor): a write this node coordinates
        // meanwhile from the committed state (a forwarded command) takes the node actor's next dot, never the same one.
        var store = new ReplicaStore(_engines.Open("memory"), _clock);
        NodeId transactionActor = new(Self.Value + "~");
        ReplicaTransaction transaction = store.BeginTransaction(TestEngines.Partitioner.PartitionOf(Key("{t}a")), transactionActor);
        await transaction.UpdateAsync(new ReplicaUpdate(Key("{t}a"), null, Bytes("staged"), null, 0));
        await transaction.CoordinateAsync(new Increment(Key("{t}n"), 5));

        await store.UpdateAsync(Key("{t}a"), VersionVector.Empty, Self, Bytes("forwarded"), 0);
        await store.TypedKeys.CoordinateAsync(new Increment(Key("{t}n"), 2), Self);
        await transaction.CommitHereAsync();

        Assert.Equal(["forwarded", "staged"], store.Read(Key("{t}a"))!.Siblings.Select(sibling => Text(sibling.Value)).Order());
        Assert.Equal(7, CounterValue(store, Key("{t}n")));
    }

    [Fact]
    public async Task AWriteThatThrows_LeavesNothingStaged()
    {
        ReplicaStore store = new(_engines.Open("memory"), _clock);
        await store.TypedKeys.CoordinateAsync(new Increment(Key("{t}n"), 1), Self);
        ReplicaTransaction transaction = store.BeginTransaction(TestEngines.Partitioner.PartitionOf(Key("{t}n")), Self);

        // A blind string write over a live counter is refused (the coordinator then writes the counter's register).
        await Assert.ThrowsAsync<TypedKeyException>(async () => await transaction.UpdateAsync(new ReplicaUpdate(Key("{t}n"), null, Bytes("v"), null, 0)));

        Assert.True(transaction.IsEmpty);
        Assert.Empty(transaction.Changes);
    }

    private static long CounterValue(ReplicaStore store, byte[] key)
    {
        Assert.True(store.Engine.TryRead(key, Start, out StoredRecord record) && record.IsTypedHeader);
        ElementPage page = store.Engine.ScanElements(key, null, 1);
        return long.Parse(ElementValue.Render(ElementState.Decode(Assert.Single(page.Elements).Value)), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string? Text(byte[]? bytes) => bytes is null ? null : Encoding.UTF8.GetString(bytes);

    /// <summary>INCRBY as a cluster coordinator runs it: the counter's one element gains this actor's increment.</summary>
    private sealed class Increment(byte[] key, long amount) : IKeyDeltaOperation
    {
        public byte[] Key => key;

        public KeyDelta? BuildDelta(IStorageTransaction transaction, NodeId actor)
        {
            KeyDeltaBuilder? counter = KeyDeltaBuilder.OpenString(transaction, key, actor, out _, out _);
            counter?.Increment([], amount);
            return counter?.Build();
        }

        public void AfterJoin(IStorageTransaction transaction)
        {
        }
    }
}
