using System.Buffers.Binary;
using System.Text;
using Dynamite.Cluster.AntiEntropy;
using Dynamite.Cluster.Replication;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Storage;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Dynamite.Cluster.Tests.Replication;

/// <summary>
/// A sorted set's score index on cluster replicas (docs/DATA-TYPES.md, "The score index"): whatever deltas a replica
/// joins, in whatever order, duplicated or as whole keys, its index entries are exactly those its members' joined states
/// imply, so replicas that hold the same elements hold the same entries; and a replica's index window read answers the
/// members of its first entries from a bound, in order, with their states.
/// </summary>
public sealed class ScoreIndexJoinTests : IAsyncLifetime
{
    private const long Now = 1_700_000_000_000;

    private static readonly byte[] Key = Encoding.UTF8.GetBytes("{z}board");

    private readonly TestEngines _engines = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeMilliseconds(Now));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _engines.DisposeAsync();

    [Theory]
    [InlineData("memory", 1)]
    [InlineData("memory", 2)]
    [InlineData("rocksdb", 3)]
    [InlineData("sqlite", 4)]
    public async Task RandomDeltasJoinedInAnyOrder_LeaveEntriesThatMatchTheElements_AndTheSameOnEveryReplica(string kind, int seed)
    {
        var random = new Random(seed);
        IStorageEngine[] replicas = [_engines.Open(kind, "a"), _engines.Open(kind, "b"), _engines.Open(kind, "c")];
        NodeId[] actors = [new("a"), new("b"), new("c")];
        var sent = new List<KeyDelta>();
        for (int step = 0; step < 120; step++)
        {
            int coordinator = random.Next(3);
            string member = $"m{random.Next(12)}";
            int action = random.Next(4);
            KeyDelta? delta = null;
            await Run(replicas[coordinator], tx =>
            {
                KeyDeltaBuilder builder = KeyDeltaBuilder.Open(tx, Key, DataType.SortedSet, actors[coordinator])!;
                switch (action)
                {
                    case 0:
                        builder.Assign(Bytes(member), Score(random.Next(-3, 4)));
                        break;
                    case 1:
                        builder.Increment(Bytes(member), 0, random.Next(1, 3));
                        break;
                    case 2:
                        builder.Remove(Bytes(member));
                        break;
                    default:
                        builder.Assign(Bytes(member), Score(2.5));
                        builder.Increment(Bytes($"m{random.Next(12)}"), 0, -1);
                        break;
                }

                delta = builder.Build();
                if (delta is not null)
                {
                    TypedKeyJoin.Apply(tx, Key, delta);
                }
            });
            if (delta is null)
            {
                continue;
            }

            sent.Add(delta);

            // Each other replica gets it now, later, or twice.
            foreach (int other in Enumerable.Range(0, 3).Where(i => i != coordinator && random.Next(3) == 0))
            {
                await Join(replicas[other], delta);
            }

            if (random.Next(10) == 0)
            {
                // Anti-entropy: one replica's whole key joined into another.
                int from = random.Next(3);
                int to = (from + 1 + random.Next(2)) % 3;
                if (WholeKey(replicas[from]) is { } whole)
                {
                    await Join(replicas[to], whole);
                }
            }

            foreach (IStorageEngine replica in replicas)
            {
                await AssertEntriesMatchElements(replica);
            }
        }

        // Everything everywhere, in another order: the replicas converge, and so do their entries.
        foreach (IStorageEngine replica in replicas)
        {
            foreach (KeyDelta delta in sent.OrderBy(_ => random.Next()))
            {
                await Join(replica, delta);
            }

            await AssertEntriesMatchElements(replica);
        }

        List<string> entries = await EntriesOf(replicas[0]);
        Assert.Equal(entries, await EntriesOf(replicas[1]));
        Assert.Equal(entries, await EntriesOf(replicas[2]));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("rocksdb")]
    [InlineData("sqlite")]
    public async Task IndexWindowRead_AnswersTheMembersOfTheFirstEntriesFromTheBound_InOrder(string kind)
    {
        var store = new ReplicaStore(_engines.Open(kind), _clock, new AntiEntropyTrees(TestEngines.Partitioner));
        await Run(store.Engine, tx =>
        {
            KeyDeltaBuilder builder = KeyDeltaBuilder.Open(tx, Key, DataType.SortedSet, new NodeId("a"))!;
            for (int i = 0; i < 50; i++)
            {
                builder.Assign(Bytes($"m{i:D2}"), Score(i % 10));
            }

            TypedKeyJoin.Apply(tx, Key, builder.Build()!);
        });

        ReplicaElements top = store.TypedKeys.Read(Key, ElementSelection.IndexWindow(null, 7, backward: true));
        Assert.Equal(["m49", "m39", "m29", "m19", "m09", "m48", "m38"], top.Elements.Select(e => Text(e.Key)));
        Assert.True(top.HasMore);
        Assert.Equal(9, ScoreIndex.ScoreOf(top.Elements[0].Value));

        ReplicaElements fromThree = store.TypedKeys.Read(Key, ElementSelection.IndexWindow(ScoreIndex.FirstAtOrAbove(3, exclusive: true), 3, backward: false));
        Assert.Equal(["m04", "m14", "m24"], fromThree.Elements.Select(e => Text(e.Key)));

        ReplicaElements all = store.TypedKeys.Read(Key, ElementSelection.IndexWindow(null, 4096, backward: false));
        Assert.Equal(50, all.Elements.Count);
        Assert.False(all.HasMore);
        Assert.Equal(StoredKeyKind.None, store.TypedKeys.Read(Encoding.UTF8.GetBytes("{z}none"), ElementSelection.IndexWindow(null, 5, backward: true)).Kind);
    }

    private static async Task AssertEntriesMatchElements(IStorageEngine replica)
    {
        var implied = new List<string>();
        await Run(replica, tx =>
        {
            foreach (StoredElement element in tx.ScanElements(Key, null, 10_000).Elements)
            {
                ElementState state = ElementState.Decode(element.Value);
                if (state.IsPresent)
                {
                    implied.Add(Convert.ToHexString(ScoreIndex.Entry(ScoreIndex.ScoreOf(state), element.Name)));
                }
            }
        });
        implied.Sort(StringComparer.Ordinal);
        Assert.Equal(implied, await EntriesOf(replica));
    }

    private static async Task<List<string>> EntriesOf(IStorageEngine replica)
    {
        var entries = new List<string>();
        await Run(replica, tx => entries.AddRange(tx.ScanIndex(Key, null, 10_000).Elements.Select(e => Convert.ToHexString(e.Name))));
        Assert.Equal(entries, replica.ScanIndex(Key, null, 10_000, backward: false).Elements.Select(e => Convert.ToHexString(e.Name)));
        return entries;
    }

    private static KeyDelta? WholeKey(IStorageEngine replica) =>
        replica.TryRead(Key, Now, out StoredRecord record) && record.IsTypedHeader
            ? KeyDelta.WholeKey(
                TypedKeyRecord.Decode(record.Value).Header,
                replica.ScanElements(Key, null, 10_000).Elements.Select(e => new KeyValuePair<byte[], ElementState>(e.Name, ElementState.Decode(e.Value))))
            : null;

    private static Task Join(IStorageEngine replica, KeyDelta delta) => Run(replica, tx => TypedKeyJoin.Apply(tx, Key, KeyDelta.Decode(delta.Encode())));

    private static async Task Run(IStorageEngine engine, Action<IStorageTransaction> body) => await engine.ExecuteAsync(new Operation(body), Now);

    private static byte[] Score(double score)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(bytes, score);
        return bytes;
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    private sealed class Operation(Action<IStorageTransaction> body) : IStorageOperation
    {
        public int TouchedKeyCount => 1;

        public byte[] GetTouchedKey(int index) => Key;

        public void Execute(IStorageTransaction transaction) => body(transaction);
    }
}
