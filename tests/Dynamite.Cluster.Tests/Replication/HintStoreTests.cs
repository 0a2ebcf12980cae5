using System.Diagnostics.Metrics;
using System.Text;
using Dynamite.Cluster.Metrics;
using Dynamite.Cluster.Replication;
using Dynamite.Core.DataTypes;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Dynamite.Storage;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Xunit;

namespace Dynamite.Cluster.Tests.Replication;

public sealed class HintStoreTests : IAsyncLifetime
{
    private const long Start = 1_700_000_000_000;

    private static readonly NodeId Coordinator = new("coordinator");
    private static readonly NodeId Other = new("other-coordinator");
    private static readonly NodeId N1 = new("n1");
    private static readonly NodeId N10 = new("n10");

    private readonly TestEngines _engines = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeMilliseconds(Start));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _engines.DisposeAsync();

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task AddTakeRemove_OneHint_IsReturnedForItsNodeAndThenGone(string kind)
    {
        var hints = new HintStore(_engines.Open(kind), _clock);
        VersionedObject obj = Write(Coordinator, "v");

        await hints.AddAsync(N1, Key("k"), obj);

        Hint hint = Assert.Single(hints.Take(N1, 10));
        Assert.Equal(N1, hint.IntendedFor);
        Assert.Equal(Key("k"), hint.Key);
        Assert.Equal(obj, hint.Object);
        Assert.Empty(hints.Take(N10, 10));
        Assert.Equal(1, hints.Count);

        Assert.True(await hints.RemoveIfUnchangedAsync(hint));

        Assert.Empty(hints.Take(N1, 10));
        Assert.Equal(0, hints.Count);
        Assert.Empty(hints.CountsByNode());
        Assert.False(await hints.RemoveIfUnchangedAsync(hint));
        Assert.Equal(0, hints.Count);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task AddDeltaAsync_TwoChangesToOneKey_KeptAsOneJoinedHintBesideTheKeysObjectHint(string kind)
    {
        var hints = new HintStore(_engines.Open(kind), _clock);
        KeyDelta first = SetAdd(new Dot(Coordinator, 1), "m1");
        KeyDelta second = SetAdd(new Dot(Coordinator, 2), "m2");

        await hints.AddDeltaAsync(N1, Key("s"), first);
        await hints.AddDeltaAsync(N1, Key("s"), second);
        await hints.AddAsync(N1, Key("s"), Write(Coordinator, "a string's write"));

        Assert.Equal(2, hints.Count);
        IReadOnlyList<Hint> taken = hints.Take(N1, 10);
        Hint delta = Assert.Single(taken, h => h.Delta is not null);
        Assert.Equal(Key("s"), delta.Key);
        Assert.Equal(["m1", "m2"], delta.Delta!.Elements.Select(e => Encoding.UTF8.GetString(e.Key)));
        Assert.Single(taken, h => h.Delta is null);

        // A change joined in during the replay keeps the hint for the next round.
        await hints.AddDeltaAsync(N1, Key("s"), SetAdd(new Dot(Coordinator, 3), "m3"));
        Assert.False(await hints.RemoveIfUnchangedAsync(delta));
        Hint replayed = Assert.Single(hints.Take(N1, 10), h => h.Delta is not null);
        Assert.True(await hints.RemoveIfUnchangedAsync(replayed));
        Assert.Equal(1, hints.Count);
    }

    [Fact]
    public async Task AddAsync_TwoConcurrentWritesForOneKey_MergesThemIntoOneHint()
    {
        var hints = new HintStore(_engines.Open("memory"), _clock);
        VersionedObject first = Write(Coordinator, "first");
        VersionedObject second = Write(Other, "second");

        await hints.AddAsync(N1, Key("k"), first);
        await hints.AddAsync(N1, Key("k"), second);

        Hint hint = Assert.Single(hints.Take(N1, 10));
        Assert.Equal(first.Merge(second), hint.Object);
        Assert.Equal(["first", "second"], hint.Object.Siblings.Select(s => Encoding.UTF8.GetString(s.Value!)));
        Assert.Equal(1, hints.Count);
    }

    [Fact]
    public async Task AddAsync_EmptyObject_StoresNothing()
    {
        var hints = new HintStore(_engines.Open("memory"), _clock);

        await hints.AddAsync(N1, Key("k"), VersionedObject.Empty);

        Assert.Empty(hints.Take(N1, 10));
        Assert.Equal(0, hints.Count);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task RemoveIfUnchangedAsync_HintChangedDuringReplay_KeepsTheNewerHint(string kind)
    {
        var hints = new HintStore(_engines.Open(kind), _clock);
        VersionedObject first = Write(Coordinator, "first");
        await hints.AddAsync(N1, Key("k"), first);
        Hint replayed = Assert.Single(hints.Take(N1, 10));

        // A newer write for the same key arrives while the first is being replayed.
        VersionedObject newer = first.Update(first.Context, Coordinator, Bytes("newer"), Start + 1, 0);
        await hints.AddAsync(N1, Key("k"), newer);

        Assert.False(await hints.RemoveIfUnchangedAsync(replayed));

        Hint kept = Assert.Single(hints.Take(N1, 10));
        Assert.Equal(newer, kept.Object);
        Assert.Equal(1, hints.Count);
        Assert.True(await hints.RemoveIfUnchangedAsync(kept));
        Assert.Equal(0, hints.Count);
    }

    [Fact]
    public async Task CountsByNode_HintsForSeveralNodes_CountsEachAndTakeRespectsMax()
    {
        var hints = new HintStore(_engines.Open("memory"), _clock);
        for (int i = 0; i < 5; i++)
        {
            await hints.AddAsync(N1, Key($"k{i}"), Write(Coordinator, $"v{i}"));
        }

        for (int i = 0; i < 3; i++)
        {
            await hints.AddAsync(N10, Key($"k{i}"), Write(Coordinator, $"w{i}"));
        }

        Assert.Equal(new Dictionary<NodeId, long> { [N1] = 5, [N10] = 3 }, hints.CountsByNode());
        Assert.Equal(8, hints.Count);

        // "n1" is a prefix of "n10": the separator keeps their hints apart.
        IReadOnlyList<Hint> some = hints.Take(N1, 2);
        Assert.Equal(2, some.Count);
        Assert.All(some, hint => Assert.Equal(N1, hint.IntendedFor));
        Assert.Equal(5, hints.Take(N1, 100).Count);
        IReadOnlyList<Hint> forN10 = hints.Take(N10, 100);
        Assert.Equal(["w0", "w1", "w2"], forN10.Select(h => Encoding.UTF8.GetString(h.Object.Siblings[0].Value!)).Order());
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task Count_ConcurrentAddsAndRemoves_MatchesARecount(string kind)
    {
        IStorageEngine engine = _engines.Open(kind);
        var hints = new HintStore(engine, _clock);

        // 60 adds over 30 keys: every key gets two concurrent writes, so half the adds merge into an existing hint.
        await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Task.Run(async () =>
            await hints.AddAsync(i % 2 == 0 ? N1 : N10, Key($"k{i % 30}"), Write(new NodeId($"c{i}"), "v")))));

        Assert.Equal(new Dictionary<NodeId, long> { [N1] = 15, [N10] = 15 }, hints.CountsByNode());

        IReadOnlyList<Hint> forN1 = hints.Take(N1, 100);
        Assert.Equal(15, forN1.Count);
        await Task.WhenAll(forN1.Select(h => Task.Run(async () => await hints.RemoveIfUnchangedAsync(h))));

        Assert.Equal(new Dictionary<NodeId, long> { [N10] = 15 }, hints.CountsByNode());
        Assert.Equal(15, hints.Count);
        Assert.Equal(15, new HintStore(engine, _clock).Count);
    }

    [Fact]
    public async Task Take_UserKeyContainingTheSeparator_RoundTripsTheWholeKey()
    {
        var hints = new HintStore(_engines.Open("memory"), _clock);
        byte[] key = [0x00, 0x6B, 0x00, 0xFF];

        await hints.AddAsync(N1, key, Write(Coordinator, "v"));

        Assert.Equal(key, Assert.Single(hints.Take(N1, 10)).Key);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task Take_ExpiredSiblings_AreStillReplayed(string kind)
    {
        var hints = new HintStore(_engines.Open(kind), _clock);
        VersionedObject expiring = VersionedObject.Empty.Update(VersionVector.Empty, Coordinator, Bytes("v"), Start, Start + 10);
        await hints.AddAsync(N1, Key("k"), expiring);

        _clock.Advance(TimeSpan.FromMilliseconds(1000));

        // The hint record itself never expires: the intended node drops the expired sibling after the replay.
        Assert.Equal(expiring, Assert.Single(hints.Take(N1, 10)).Object);
        Assert.Equal(1, hints.Count);
    }

    [Fact]
    public async Task Constructor_SqliteReopened_KeepsHintsAndRebuildsCounts()
    {
        IStorageEngine first = _engines.Open("sqlite", "hints");
        var hints = new HintStore(first, _clock);
        VersionedObject obj = Write(Coordinator, "durable");
        await hints.AddAsync(N1, Key("a"), obj);
        await hints.AddAsync(N1, Key("b"), obj);
        await hints.AddAsync(N10, Key("a"), obj);
        await hints.RemoveIfUnchangedAsync(Assert.Single(hints.Take(N10, 10)));
        await _engines.CloseAsync(first);

        var reopened = new HintStore(_engines.Open("sqlite", "hints"), _clock);

        Assert.Equal(2, reopened.Count);
        Assert.Equal(new Dictionary<NodeId, long> { [N1] = 2 }, reopened.CountsByNode());
        IReadOnlyList<Hint> taken = reopened.Take(N1, 10);
        Assert.Equal(["a", "b"], taken.Select(h => Encoding.UTF8.GetString(h.Key)).Order());
        Assert.All(taken, hint => Assert.Equal(obj, hint.Object));
    }

    [Fact]
    public async Task Take_CorruptHintBesideGoodOnes_SkipsAndCountsItGoodOnesStillReplay()
    {
        IStorageEngine engine = _engines.Open("memory");
        await engine.ExecuteAsync(new RawWriteOperation([.. "n1"u8, 0x00, .. "k"u8], [0x07]), Start);
        using var meter = new Meter("test");
        using var unreadable = new MetricCollector<long>(meter, ClusterMetrics.HintsUnreadable);
        var hints = new HintStore(engine, _clock, new ClusterMetrics(meter));
        await hints.AddAsync(N1, Key("good"), Write(Coordinator, "v"));

        IReadOnlyList<Hint> taken = hints.Take(N1, 10);
        Assert.Equal(["good"], taken.Select(h => Encoding.UTF8.GetString(h.Key)));
        Assert.True(unreadable.GetMeasurementSnapshot().EvaluateAsCounter() >= 1);
    }

    [Fact]
    public async Task Constructor_KeyWithoutANodePrefix_OpensAndCountsItUnreadable()
    {
        IStorageEngine engine = _engines.Open("memory");
        await engine.ExecuteAsync(new RawWriteOperation(Key("no separator"), Write(Coordinator, "v").Encode()), Start);

        using var meter = new Meter("test");
        using var unreadable = new MetricCollector<long>(meter, ClusterMetrics.HintsUnreadable);
        var hints = new HintStore(engine, _clock, new ClusterMetrics(meter));
        Assert.Equal(0, hints.Count);
        Assert.Equal(1, unreadable.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    private static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>An SADD of <paramref name="member"/> to a set created by the coordinator's first dot, under <paramref name="dot"/>.</summary>
    private static KeyDelta SetAdd(Dot dot, string member)
    {
        var header = KeyHeader.Create(DataType.Set, new Stamp(Start, new Dot(Coordinator, 1)));
        var write = new ElementDelta(ElementState.Of([new ElementWrite(dot, Start, null)]), DotContext.Of([dot]));
        return new KeyDelta(header, [new(Key(member), write)]);
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static VersionedObject Write(NodeId coordinator, string value) =>
        VersionedObject.Empty.Update(VersionVector.Empty, coordinator, Bytes(value), Start, 0);
}
