using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Tests;

/// <summary>
/// The index keyspace's contract (<see cref="IStorageTransaction.KeepsIndex"/>, docs/DATA-TYPES.md "The score index"):
/// entries of a key in byte order from either end with paging, kept apart from elements and records, an operation's
/// scans seeing its own staged entries, entries leaving with their key's elements (delete, type replacement, sweep,
/// clear), and a transaction stage overlaying and committing them.
/// </summary>
public abstract partial class StorageEngineContractTests
{
    [Fact]
    public async Task IndexEntries_ScannedFromEitherEndInPages_ComeInByteOrderApartFromElements()
    {
        IStorageEngine engine = CreateEngine();
        List<byte[]> entries = TrickyNames().Concat(LongNames()).DistinctBy(Convert.ToHexString).ToList();
        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                Assert.True(t.KeepsIndex);
                foreach (byte[] entry in entries)
                {
                    t.WriteIndexEntry(Key("z"), entry);
                }

                t.WriteIndexEntry(Key("z2"), [0x00]);
                t.WriteElement(Key("z"), Key("member"), Key("state"));
            }),
            Now);
        List<string> sorted = entries.Order(ByteOrder).Select(Convert.ToHexString).ToList();

        foreach (int limit in new[] { 1, 3, 1000 })
        {
            Assert.Equal(sorted, (await ScanIndexAsync(engine, "z", limit, backward: false)).Select(Convert.ToHexString));
            Assert.Equal(Enumerable.Reverse(sorted), (await ScanIndexAsync(engine, "z", limit, backward: true)).Select(Convert.ToHexString));
            Assert.Equal(sorted, ScanEngineIndex(engine, "z", limit, backward: false).Select(Convert.ToHexString));
            Assert.Equal(Enumerable.Reverse(sorted), ScanEngineIndex(engine, "z", limit, backward: true).Select(Convert.ToHexString));
        }

        Assert.Equal(["member=state"], ScanTexts(engine, "z"));
        Assert.Equal(["00"], (await ScanIndexAsync(engine, "z2", 10, backward: false)).Select(Convert.ToHexString));
        Assert.Empty(await ScanIndexAsync(engine, "absent", 10, backward: true));
        AssertCounts(engine, keys: 0, withExpiry: 0);
    }

    [Fact]
    public async Task IndexEntries_ScanFromABoundThatIsNoEntry_StartsAtTheNeighbour()
    {
        IStorageEngine engine = CreateEngine();
        await WriteEntries(engine, "z", "b1", "b2", "c1", "d1");

        var forward = new List<string>();
        var backward = new List<string>();
        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                forward.AddRange(t.ScanIndex(Key("z"), Key("b"), 2).Elements.Select(e => Text(e.Name)));
                backward.AddRange(t.ScanIndexBackward(Key("z"), Key("c"), 10).Elements.Select(e => Text(e.Name)));
            }),
            Now);

        Assert.Equal(["b1", "b2"], forward);
        Assert.Equal(["b2", "b1"], backward);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    public async Task IndexEntries_RandomStagedChanges_ScanLikeAModel(int seed)
    {
        IStorageEngine engine = CreateEngine();
        var random = new Random(seed);
        var model = new SortedSet<string>(StringComparer.Ordinal);
        for (int round = 0; round < 20; round++)
        {
            var roundModel = new SortedSet<string>(model, StringComparer.Ordinal);
            List<string>? forward = null, backward = null;
            await engine.ExecuteAsync(
                new DelegateOperation(t =>
                {
                    for (int i = 0; i < 10; i++)
                    {
                        string entry = $"e{random.Next(40):D2}";
                        if (random.Next(3) == 0)
                        {
                            t.DeleteIndexEntry(Key("z"), Key(entry));
                            roundModel.Remove(entry);
                        }
                        else
                        {
                            t.WriteIndexEntry(Key("z"), Key(entry));
                            roundModel.Add(entry);
                        }
                    }

                    forward = ScanIndex(t, "z", 3, backward: false).Select(Text).ToList();
                    backward = ScanIndex(t, "z", 4, backward: true).Select(Text).ToList();
                }),
                Now);

            Assert.Equal(roundModel.ToList(), forward);
            Assert.Equal(roundModel.Reverse().ToList(), backward);
            model = roundModel;
            Assert.Equal(model.ToList(), await EntryTexts(engine, "z"));
        }
    }

    [Fact]
    public async Task IndexEntries_GoWithTheKeysElements_AndOnlyThose()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "deleted", "header");
        await WriteEntries(engine, "deleted", "a", "b");
        await WriteEntries(engine, "replaced", "a", "b");
        await WriteEntries(engine, "kept", "a");

        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.Delete(Key("deleted"));
                t.DeleteAllElements(Key("replaced"));
                t.WriteIndexEntry(Key("replaced"), Key("c"));
            }),
            Now);

        Assert.Empty(await ScanIndexAsync(engine, "deleted", 10, backward: false));
        Assert.Equal(["c"], await EntryTexts(engine, "replaced"));
        Assert.Single(await ScanIndexAsync(engine, "kept", 10, backward: false));
    }

    [Fact]
    public async Task IndexEntries_OfASweptKey_AreRemovedWithIt_AndClearRemovesAll()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "expiring", "header", expiresAt: Now + 10);
        await WriteEntries(engine, "expiring", "a", "b");
        await Put(engine, "plain", "header");
        await WriteEntries(engine, "plain", "a");

        Assert.Equal(1, await engine.RemoveExpiredAsync(Now + 10, 100));

        Assert.Empty(await ScanIndexAsync(engine, "expiring", 10, backward: false));
        Assert.Single(await ScanIndexAsync(engine, "plain", 10, backward: true));

        await engine.ClearAsync();
        Assert.Empty(await ScanIndexAsync(engine, "plain", 10, backward: false));
        await WriteEntries(engine, "plain", "b");
        Assert.Single(await ScanIndexAsync(engine, "plain", 10, backward: false));
    }

    [Fact]
    public async Task IndexEntries_OfAThrowingOperation_AreNotKept()
    {
        IStorageEngine engine = CreateEngine();
        await WriteEntries(engine, "z", "a");

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.WriteIndexEntry(Key("z"), Key("b"));
                t.DeleteIndexEntry(Key("z"), Key("a"));
                throw new InvalidOperationException("the command failed");
            }),
            Now));

        Assert.Equal(["a"], await EntryTexts(engine, "z"));
    }

    [Fact]
    public async Task TransactionStage_StagesIndexEntries_ShowsThemToLaterOperations_AndCommitsThem()
    {
        IStorageEngine engine = CreateEngine();
        await WriteEntries(engine, "z", "a", "b");
        await WriteEntries(engine, "emptied", "a");
        var stage = new TransactionStage();

        await engine.ExecuteAsync(stage.Staging(new DelegateOperation(t =>
        {
            Assert.True(t.KeepsIndex);
            t.WriteIndexEntry(Key("z"), Key("c"));
            t.DeleteIndexEntry(Key("z"), Key("a"));
            t.WriteIndexEntry(Key("emptied"), Key("before"));
            t.DeleteAllElements(Key("emptied"));
            t.WriteIndexEntry(Key("emptied"), Key("after"));
        })), Now);

        Assert.Equal(["a", "b"], await EntryTexts(engine, "z"));
        List<string>? staged = null, stagedBackward = null, emptied = null;
        await engine.ExecuteAsync(stage.Staging(new DelegateOperation(t =>
        {
            staged = ScanIndex(t, "z", 1, backward: false).Select(Text).ToList();
            stagedBackward = ScanIndex(t, "z", 1, backward: true).Select(Text).ToList();
            emptied = ScanIndex(t, "emptied", 10, backward: false).Select(Text).ToList();
        })), Now);
        Assert.Equal(["b", "c"], staged);
        Assert.Equal(["c", "b"], stagedBackward);
        Assert.Equal(["after"], emptied);

        await engine.ExecuteAsync(stage.Commit(), Now);
        stage.Clear();

        Assert.Equal(["b", "c"], await EntryTexts(engine, "z"));
        Assert.Equal(["after"], await EntryTexts(engine, "emptied"));
    }

    /// <summary>Writes the entries (UTF-8 texts) of <paramref name="key"/> in one operation.</summary>
    private static Task WriteEntries(IStorageEngine engine, string key, params string[] entries) =>
        engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                foreach (string entry in entries)
                {
                    t.WriteIndexEntry(Key(key), Key(entry));
                }
            }),
            Now).AsTask();

    /// <summary>Every entry of <paramref name="key"/>, page by page, in an operation of its own.</summary>
    private static async Task<List<byte[]>> ScanIndexAsync(IStorageEngine engine, string key, int limit, bool backward)
    {
        List<byte[]> read = [];
        await engine.ExecuteAsync(new DelegateOperation(t => read = ScanIndex(t, key, limit, backward)), Now);
        return read;
    }

    /// <summary>Every entry of <paramref name="key"/> as the engine's reads outside operations page them.</summary>
    private static List<byte[]> ScanEngineIndex(IStorageEngine engine, string key, int limit, bool backward)
    {
        var read = new List<byte[]>();
        byte[]? bound = null;
        for (int pages = 0; ; pages++)
        {
            Assert.True(pages <= 10_000, "the scan does not terminate");
            ElementPage page = engine.ScanIndex(Key(key), bound, limit, backward);
            Assert.InRange(page.Elements.Count, 0, limit);
            read.AddRange(page.Elements.Select(e => e.Name));
            if (!page.HasMore)
            {
                return read;
            }

            bound = page.Elements[^1].Name;
        }
    }

    private static async Task<List<string>> EntryTexts(IStorageEngine engine, string key) =>
        (await ScanIndexAsync(engine, key, 3, backward: false)).Select(Text).ToList();

    /// <summary>Every entry of <paramref name="key"/> as the transaction scans it, page by page (forwards, or backwards
    /// last first), checking each page's shape and the order.</summary>
    private static List<byte[]> ScanIndex(IStorageTransaction transaction, string key, int limit, bool backward)
    {
        var read = new List<byte[]>();
        byte[]? bound = null;
        for (int pages = 0; ; pages++)
        {
            Assert.True(pages <= 10_000, "the scan does not terminate");
            ElementPage page = backward ? transaction.ScanIndexBackward(Key(key), bound, limit) : transaction.ScanIndex(Key(key), bound, limit);
            Assert.InRange(page.Elements.Count, 0, limit);
            Assert.All(page.Elements, e => Assert.Empty(e.Value));
            read.AddRange(page.Elements.Select(e => e.Name));
            if (!page.HasMore)
            {
                break;
            }

            Assert.Equal(limit, page.Elements.Count);
            bound = page.Elements[^1].Name;
        }

        for (int i = 1; i < read.Count; i++)
        {
            Assert.True((backward ? -1 : 1) * ByteOrder.Compare(read[i - 1], read[i]) < 0, "entries must come in order");
        }

        return read;
    }
}
