using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Protocols.Resp.Commands.TypedKeys;
using Dynamite.Storage.Memory;
using Xunit;
using Xunit.Abstractions;

namespace Dynamite.Protocols.Tests.TypedKeys;

/// <summary>
/// What a cluster primary ships for a change of one element of a large collection (issue 14's delta-size acceptance):
/// the command's delta, as <see cref="KeyDelta.Encode"/> puts it in a ReplicaDelta, holds the header and the changed
/// element, never the collection. The collections are built as three primaries build them (dots of three actors,
/// some members removed), each command's delta joined on the replica that built it.
/// </summary>
public sealed class DeltaSizeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const long Now = 1_700_000_000_000;
    private const int CollectionSize = 100_000;
    private const int Chunk = 5_000;
    private static readonly NodeId[] Actors = [new("n1"), new("n2"), new("n3")];

    private readonly MemoryStorageEngine _engine = new(new KeyPartitioner(8));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    [Theory]
    [InlineData(DataType.Set)]
    [InlineData(DataType.Hash)]
    public async Task ChangeOfOneElement_InACollectionOf100000_ShipsUnder1KB(DataType type)
    {
        byte[] key = Encoding.UTF8.GetBytes("big");
        for (int start = 0, round = 0; start < CollectionSize; start += Chunk, round++)
        {
            byte[][] names = [.. Enumerable.Range(start, Chunk).Select(Name)];
            await JoinAsync(Write(key, type, names, ElementWriteMode.Set, Actors[round % Actors.Length]));
        }

        // Observed removes of some members, by another actor: the key's context must stay small all the same.
        await JoinAsync(Write(key, type, [.. Enumerable.Range(0, CollectionSize).Where(i => i % 97 == 0).Select(Name)], ElementWriteMode.Delete, Actors[1]));

        KeyDelta add = await JoinAsync(Write(key, type, [Encoding.UTF8.GetBytes("one-more-element")], ElementWriteMode.Set, Actors[2]));
        KeyDelta remove = await JoinAsync(Write(key, type, [Name(5)], ElementWriteMode.Delete, Actors[0]));

        Assert.True(_engine.TryRead(key, Now, out StoredRecord record));
        Assert.Equal(CollectionSize - ((CollectionSize + 96) / 97), TypedKeyRecord.CountOf(record.Value));
        output.WriteLine($"{type}: add of one element {add.Encode().Length} B, remove of one {remove.Encode().Length} B");
        Assert.InRange(add.Encode().Length, 1, 1023);
        Assert.InRange(remove.Encode().Length, 1, 1023);
    }

    private static byte[] Name(int i) => Encoding.UTF8.GetBytes($"element:{i:D6}");

    private static (ElementWriteOperation, NodeId) Write(byte[] key, DataType type, byte[][] names, ElementWriteMode mode, NodeId actor) =>
        (new(key, type, names, type == DataType.Hash && mode != ElementWriteMode.Delete ? [.. names.Select(_ => "value"u8.ToArray())] : null, mode, actor), actor);

    /// <summary>Builds the command's delta on this replica and joins it here, in one operation, as a cluster primary does.</summary>
    private async Task<KeyDelta> JoinAsync((ElementWriteOperation Command, NodeId Actor) write)
    {
        var operation = new DeltaOperation(write.Command, write.Actor);
        await _engine.ExecuteAsync(operation, Now);
        return operation.Delta!;
    }

    private sealed class DeltaOperation(ElementWriteOperation command, NodeId actor) : IStorageOperation
    {
        public KeyDelta? Delta { get; private set; }

        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => command.Key;

        public void Execute(IStorageTransaction transaction)
        {
            Delta = command.BuildDelta(transaction, actor) ?? throw new InvalidOperationException("The command changed nothing.");
            TypedKeyJoin.Apply(transaction, command.Key, Delta);
            command.AfterJoin(transaction);
        }
    }
}
