using System.Globalization;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Storage.Tests;

/// <summary>
/// The element keyspace's contract (docs/DATA-TYPES.md, "Storage"): point reads and writes of elements, scans in
/// element-name byte order with paging, keys that never share elements, an operation's reads seeing its own staged
/// element changes, atomicity with the key records, and elements leaving with their key (delete, sweep, clear).
/// </summary>
public abstract partial class StorageEngineContractTests
{
    private static readonly Comparer<byte[]> ByteOrder = Comparer<byte[]>.Create(static (x, y) => x.AsSpan().SequenceCompareTo(y));

    [Fact]
    public async Task TryReadElement_AbsentKeyOrElement_ReturnsFalse()
    {
        IStorageEngine engine = CreateEngine();
        await PutElements(engine, "h", ("f", "1"));

        Assert.False(engine.TryReadElement(Key("missing"), Key("f"), out _));
        Assert.False(engine.TryReadElement(Key("h"), Key("g"), out _));
        Assert.False(engine.TryReadElement(Key("h"), Key("f1"), out _));
        Assert.False(engine.TryReadElement(Key("h"), [], out _));
        Assert.Empty(engine.ScanElements(Key("missing"), null, 10).Elements);
        Assert.False(engine.ScanElements(Key("missing"), null, 10).HasMore);
    }

    [Fact]
    public async Task WriteElement_EmptyBinaryAndLargeValues_RoundTripExactlyAndCountNoKeys()
    {
        IStorageEngine engine = CreateEngine();
        byte[] allBytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        byte[] large = new byte[1 << 20];
        new Random(42).NextBytes(large);

        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.WriteElement(Key("h"), [], Key("empty name"));
                t.WriteElement(Key("h"), Key("empty value"), []);
                t.WriteElement(Key("h"), [0, 255, 0], allBytes);
                t.WriteElement(Key("h"), Key("large"), (byte[])large.Clone());
                t.WriteElement([], Key("of the empty key"), Key("x"));
            }),
            Now);

        Assert.Equal("empty name", ReadElementText(engine, "h", []));
        Assert.Equal(string.Empty, ReadElementText(engine, "h", Key("empty value")));
        Assert.True(engine.TryReadElement(Key("h"), [0, 255, 0], out byte[]? binary));
        Assert.Equal(allBytes, binary);
        Assert.True(engine.TryReadElement(Key("h"), Key("large"), out byte[]? read));
        Assert.Equal(large, read);
        Assert.True(engine.TryReadElement([], Key("of the empty key"), out _));
        AssertCounts(engine, keys: 0, withExpiry: 0);
    }

    [Fact]
    public async Task WriteElement_Overwrite_ReadsLatestValue()
    {
        IStorageEngine engine = CreateEngine();
        await PutElements(engine, "h", ("f", "first"), ("g", "other"));

        await PutElements(engine, "h", ("f", "second"));

        Assert.Equal("second", ReadElementText(engine, "h", Key("f")));
        Assert.Equal(["f=second", "g=other"], ScanTexts(engine, "h"));
    }

    [Fact]
    public async Task DeleteElement_RemovesOnlyThatElement()
    {
        IStorageEngine engine = CreateEngine();
        await PutElements(engine, "h", ("f", "1"), ("f2", "2"), ("g", "3"));
        await PutElements(engine, "h2", ("f", "4"));

        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.DeleteElement(Key("h"), Key("f"));
                t.DeleteElement(Key("h"), Key("absent"));
            }),
            Now);

        Assert.Null(ReadElementText(engine, "h", Key("f")));
        Assert.Equal(["f2=2", "g=3"], ScanTexts(engine, "h"));
        Assert.Equal(["f=4"], ScanTexts(engine, "h2"));
    }

    [Fact]
    public async Task ScanElements_NamesThatArePrefixesAndZeroOrFfBytes_ComeInByteOrder()
    {
        IStorageEngine engine = CreateEngine();
        List<byte[]> names = TrickyNames();
        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                foreach (byte[] name in Shuffled(names, seed: 1))
                {
                    t.WriteElement(Key("h"), name, ValueOf(name));
                }
            }),
            Now);

        ElementPage page = engine.ScanElements(Key("h"), null, 1000);

        Assert.False(page.HasMore);
        Assert.Null(page.ResumeAfter);
        Assert.Equal(names.Order(ByteOrder).Select(Convert.ToHexString), page.Elements.Select(e => Convert.ToHexString(e.Name)));
        Assert.All(page.Elements, e => Assert.Equal(ValueOf(e.Name), e.Value));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(1000)]
    public async Task ScanElements_PagesResumedAfterTheLastName_ReturnEveryElementOnceInOrder(int limit)
    {
        IStorageEngine engine = CreateEngine();
        List<byte[]> names = TrickyNames();
        await WriteNames(engine, Key("h"), names);

        List<ElementPage> pages = ScanPages(name => engine.ScanElements(Key("h"), name, limit), null, limit);

        Assert.Equal(names.Order(ByteOrder).Select(Convert.ToHexString), pages.SelectMany(p => p.Elements).Select(e => Convert.ToHexString(e.Name)));
        Assert.Equal((names.Count + limit - 1) / limit, pages.Count);
    }

    [Fact]
    public async Task ScanElements_AfterAnyName_StartsAtTheNextGreaterName()
    {
        IStorageEngine engine = CreateEngine();
        List<byte[]> names = TrickyNames().Where((_, i) => i % 2 == 0).ToList();
        await WriteNames(engine, Key("h"), names);
        List<byte[]> sorted = names.Order(ByteOrder).ToList();

        // Every name, stored or not, as the start: the page is the stored names after it.
        foreach (byte[] after in TrickyNames().Append([0xFF, 0xFF, 0xFF, 0xFF]))
        {
            ElementPage page = engine.ScanElements(Key("h"), after, 2);
            List<byte[]> expected = sorted.Where(n => ByteOrder.Compare(n, after) > 0).ToList();
            Assert.Equal(expected.Take(2).Select(Convert.ToHexString), page.Elements.Select(e => Convert.ToHexString(e.Name)));
            Assert.Equal(expected.Count > 2, page.HasMore);
        }

        // Null is the start, and the empty array is after the element named by the empty string.
        Assert.Empty(engine.ScanElements(Key("h"), null, 1).Elements[0].Name);
        Assert.NotEmpty(engine.ScanElements(Key("h"), [], 1).Elements[0].Name);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(1000)]
    public async Task ScanElementsBackward_BeforeAnyNameInPages_ReturnsTheStoredNamesBeforeItLastFirst(int limit)
    {
        IStorageEngine engine = CreateEngine();
        List<byte[]> names = TrickyNames().Where((_, i) => i % 2 == 0).ToList();
        await WriteNames(engine, Key("h"), names);
        await WriteNames(engine, Key("h2"), [[0x00], [0xFF, 0xFF]]);
        List<byte[]> sorted = names.Order(ByteOrder).ToList();

        // Every name, stored or not, and null (from the last) as the bound; pages resumed before their last name.
        foreach (byte[]? before in TrickyNames().Append([0xFF, 0xFF, 0xFF, 0xFF]).Append(null))
        {
            var expected = sorted.Where(n => before is null || ByteOrder.Compare(n, before) < 0).Reverse().Select(Convert.ToHexString).ToList();
            var read = new List<string>();
            byte[]? bound = before;
            await engine.ExecuteAsync(
                new DelegateOperation(t =>
                {
                    while (true)
                    {
                        ElementPage page = t.ScanElementsBackward(Key("h"), bound, limit);
                        Assert.InRange(page.Elements.Count, 0, limit);
                        read.AddRange(page.Elements.Select(e => Convert.ToHexString(e.Name)));
                        Assert.All(page.Elements, e => Assert.Equal(ValueOf(e.Name), e.Value));
                        if (!page.HasMore)
                        {
                            break;
                        }

                        Assert.Equal(limit, page.Elements.Count);
                        bound = page.Elements[^1].Name;
                    }
                }),
                Now);
            Assert.Equal(expected, read);
        }
    }

    [Fact]
    public async Task ScanElements_FromEitherEndAfterPopsThenAWritePastThatEnd_FindTheNewEnd()
    {
        // A queue: pops from both ends (reads from an end, then deletes), then writes past each end. RocksDB remembers
        // the ends its reads found; a write past one must be seen by the next read from that end, on the writer's
        // transactions and on reads outside them.
        IStorageEngine engine = CreateEngine();
        byte[] key = Key("queue");
        await WriteNames(engine, key, [.. Enumerable.Range(100, 100).Select(i => Key($"item-{i}"))]);
        for (int i = 0; i < 20; i++)
        {
            await engine.ExecuteAsync(
                new DelegateOperation(t =>
                {
                    t.DeleteElement(key, t.ScanElements(key, null, 1).Elements[0].Name);
                    t.DeleteElement(key, t.ScanElementsBackward(key, null, 1).Elements[0].Name);
                }),
                Now);
        }

        Assert.Equal("item-120", Text(engine.ScanElements(key, null, 1).Elements[0].Name));
        await engine.ExecuteAsync(new DelegateOperation(t => t.WriteElement(key, Key("item-000"), Key("v"))), Now);
        await engine.ExecuteAsync(new DelegateOperation(t => t.WriteElement(key, Key("item-999"), Key("v"))), Now);

        Assert.Equal("item-000", Text(engine.ScanElements(key, null, 1).Elements[0].Name));
        string? first = null, last = null;
        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                first = Text(t.ScanElements(key, null, 1).Elements[0].Name);
                last = Text(t.ScanElementsBackward(key, null, 1).Elements[0].Name);
            }),
            Now);
        Assert.Equal("item-000", first);
        Assert.Equal("item-999", last);
        Assert.Equal(62, engine.ScanElements(key, null, 1000).Elements.Count);
    }

    [Fact]
    public void ScanElements_LimitBelowOne_Throws()
    {
        IStorageEngine engine = CreateEngine();

        Assert.Throws<ArgumentOutOfRangeException>(() => engine.ScanElements(Key("h"), null, 0));
    }

    [Fact]
    public async Task ScanElements_KeysSharingTheirHashPrefix_KeepTheirElementsApart()
    {
        IStorageEngine engine = CreateEngine();
        (byte[] first, byte[] second) = KeysSharingHashPrefix(bits: 24);
        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                for (int i = 0; i < 20; i++)
                {
                    t.WriteElement(first, Key($"e{i:D2}"), Key("first"));
                    t.WriteElement(second, Key($"e{i:D2}"), Key("second"));
                }
            }),
            Now);

        foreach ((byte[] key, string owner) in new[] { (first, "first"), (second, "second") })
        {
            List<ElementPage> pages = ScanPages(after => engine.ScanElements(key, after, 3), null, 3);
            List<StoredElement> elements = pages.SelectMany(p => p.Elements).ToList();
            Assert.Equal(20, elements.Count);
            Assert.All(elements, e => Assert.Equal(owner, Text(e.Value)));
        }

        await engine.ExecuteAsync(new DelegateOperation(t => t.DeleteAllElements(first)), Now);

        Assert.Empty(engine.ScanElements(first, null, 100).Elements);
        Assert.Equal(20, engine.ScanElements(second, null, 100).Elements.Count);
    }

    [Fact]
    public async Task Elements_KeyThatIsAPrefixOfAnotherKey_StayApart()
    {
        IStorageEngine engine = CreateEngine();

        // Key "a" with element "bx" and key "ab" with element "x" would be one byte string if key and name were glued.
        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.WriteElement(Key("a"), Key("bx"), Key("of a"));
                t.WriteElement(Key("a"), Key("b"), Key("of a"));
                t.WriteElement(Key("ab"), Key("x"), Key("of ab"));
                t.WriteElement(Key("ab"), [], Key("of ab"));
                t.WriteElement([], Key("abx"), Key("of the empty key"));
            }),
            Now);

        Assert.Equal(["b=of a", "bx=of a"], ScanTexts(engine, "a"));
        Assert.Equal(["=of ab", "x=of ab"], ScanTexts(engine, "ab"));
        Assert.Null(ReadElementText(engine, "a", Key("bx0")));
        Assert.Null(ReadElementText(engine, "ab", Key("bx")));

        await engine.ExecuteAsync(new DelegateOperation(t => t.DeleteAllElements(Key("a"))), Now);

        Assert.Empty(ScanTexts(engine, "a"));
        Assert.Equal(["=of ab", "x=of ab"], ScanTexts(engine, "ab"));
        Assert.Equal("of the empty key", ReadElementText(engine, string.Empty, Key("abx")));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(254)]
    [InlineData(255)]
    [InlineData(600)]
    public async Task Elements_LongNamesSharingLongPrefixes_ReadScanAndDeleteInByteOrder(int keyLength)
    {
        IStorageEngine engine = CreateEngine();
        byte[] key = Filled(keyLength, 'k');
        List<byte[]> names = LongNames();
        await WriteNames(engine, key, names);
        List<byte[]> sorted = names.Order(ByteOrder).ToList();

        foreach (byte[] name in names)
        {
            Assert.True(engine.TryReadElement(key, name, out byte[]? value), $"name of {name.Length} bytes");
            Assert.Equal(ValueOf(name), value);
        }

        byte[] absent = Filled(5000, 'n');
        absent[^1] = (byte)'z';
        Assert.False(engine.TryReadElement(key, absent, out _));
        foreach (int limit in new[] { 1, 3, 1000 })
        {
            List<ElementPage> pages = ScanPages(after => engine.ScanElements(key, after, limit), null, limit);
            Assert.Equal(sorted.Select(Convert.ToHexString), pages.SelectMany(p => p.Elements).Select(e => Convert.ToHexString(e.Name)));
        }

        foreach (byte[] after in sorted)
        {
            Assert.Equal(
                sorted.Where(n => ByteOrder.Compare(n, after) > 0).Take(2).Select(Convert.ToHexString),
                engine.ScanElements(key, after, 2).Elements.Select(e => Convert.ToHexString(e.Name)));
        }

        List<byte[]> deleted = names.Where((_, i) => i % 3 == 0).ToList();
        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                foreach (byte[] name in deleted)
                {
                    t.DeleteElement(key, name);
                }
            }),
            Now);

        Assert.All(deleted, name => Assert.False(engine.TryReadElement(key, name, out _)));
        Assert.Equal(
            sorted.Except(deleted).Select(Convert.ToHexString),
            ScanPages(after => engine.ScanElements(key, after, 4), null, 4).SelectMany(p => p.Elements).Select(e => Convert.ToHexString(e.Name)));

        await engine.ExecuteAsync(new DelegateOperation(t => t.DeleteAllElements(key)), Now);
        Assert.Empty(engine.ScanElements(key, null, 1000).Elements);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(40)]
    public async Task Transaction_ElementReadsWithinOperation_SeeOwnStagedChanges(int extraWrites)
    {
        IStorageEngine engine = CreateEngine();
        await PutElements(engine, "h", ("a", "committed"), ("b", "committed"), ("c", "committed"));
        await PutElements(engine, "other", ("a", "other"));
        var seen = new List<string>();

        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                seen.Add(ReadElementText(t, "h", "a") ?? "-");
                t.WriteElement(Key("h"), Key("a"), Key("staged"));
                seen.Add(ReadElementText(t, "h", "a") ?? "-");
                t.DeleteElement(Key("h"), Key("b"));
                seen.Add(ReadElementText(t, "h", "b") ?? "-");
                t.WriteElement(Key("h"), Key("d"), Key("new"));
                seen.Add(string.Join(",", ScanTexts(t, "h", limit: 2)));

                // Past the staged changes' index threshold, the same reads.
                for (int i = 0; i < extraWrites; i++)
                {
                    t.WriteElement(Key("filler"), Key($"f{i:D2}"), Key("x"));
                }

                seen.Add(string.Join(",", ScanTexts(t, "h", limit: 1)));
                t.DeleteAllElements(Key("h"));
                seen.Add(ReadElementText(t, "h", "c") ?? "-");
                seen.Add(string.Join(",", ScanTexts(t, "h", limit: 5)));
                t.WriteElement(Key("h"), Key("e"), Key("after"));
                seen.Add(string.Join(",", ScanTexts(t, "h", limit: 5)));
                seen.Add(ReadElementText(t, "other", "a") ?? "-");
                seen.Add(ReadElementText(t, "filler", "f00") ?? "-");
            }),
            Now);

        Assert.Equal(
            ["committed", "staged", "-", "a=staged,c=committed,d=new", "a=staged,c=committed,d=new", "-", string.Empty, "e=after", "other", "x"],
            seen);
        Assert.Equal(["e=after"], ScanTexts(engine, "h"));
        Assert.Equal(extraWrites, engine.ScanElements(Key("filler"), null, 1000).Elements.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(10)]
    public async Task Transaction_ScanPastStagedDeletesOfTheFirstElements_FillsThePageAndReportsMore(int limit)
    {
        IStorageEngine engine = CreateEngine();
        await PutElements(engine, "h", [.. Enumerable.Range(0, 20).Select(i => ($"e{i:D2}", "v"))]);
        var pages = new List<ElementPage>();

        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                // Every staged change hides one of the first committed elements: the page must reach past them.
                for (int i = 0; i < 5; i++)
                {
                    t.DeleteElement(Key("h"), Key($"e{i:D2}"));
                }

                pages.Add(t.ScanElements(Key("h"), null, limit));
                pages.Add(t.ScanElements(Key("h"), Key("e01"), limit));
            }),
            Now);

        foreach (ElementPage page in pages)
        {
            Assert.Equal(Enumerable.Range(5, limit).Select(i => $"e{i:D2}"), page.Elements.Select(e => Text(e.Name)));
            Assert.Equal(5 + limit < 20, page.HasMore);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task Transaction_RandomStagedChanges_ReadAndScanLikeAModel(int seed)
    {
        IStorageEngine engine = CreateEngine();
        var random = new Random(seed);
        var model = new SortedDictionary<byte[], byte[]>(ByteOrder);
        byte[] key = Key("h");
        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                for (int i = random.Next(0, 60); i > 0; i--)
                {
                    byte[] name = RandomName(random);
                    byte[] value = Key($"committed-{i}");
                    t.WriteElement(key, name, value);
                    model[name] = value;
                }
            }),
            Now);

        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                for (int step = 0; step < 80; step++)
                {
                    int action = random.Next(100);
                    byte[] name = RandomName(random);
                    if (action < 45)
                    {
                        byte[] value = Key($"staged-{step}");
                        t.WriteElement(key, name, value);
                        model[name] = value;
                    }
                    else if (action < 75)
                    {
                        t.DeleteElement(key, name);
                        model.Remove(name);
                    }
                    else if (action < 78)
                    {
                        t.DeleteAllElements(key);
                        model.Clear();
                    }
                    else if (action < 90)
                    {
                        Assert.True(
                            model.TryGetValue(name, out byte[]? expected) == t.TryReadElement(key, name, out byte[]? value) && expected.AsSpan().SequenceEqual(value),
                            $"seed {seed}, step {step}: read of {Convert.ToHexString(name)}");
                    }
                    else if (action < 95)
                    {
                        int limit = random.Next(1, 8);
                        byte[]? start = random.Next(3) == 0 ? null : name;
                        var scanned = new List<StoredElement>();
                        byte[]? before = start;
                        ElementPage page;
                        do
                        {
                            page = t.ScanElementsBackward(key, before, limit);
                            Assert.InRange(page.Elements.Count, 0, limit);
                            scanned.AddRange(page.Elements);
                            if (page.Elements.Count > 0)
                            {
                                before = page.Elements[^1].Name;
                            }
                        }
                        while (page.HasMore);
                        string expected = string.Join(",", model.Reverse().Where(e => start is null || ByteOrder.Compare(e.Key, start) < 0).Select(e => Convert.ToHexString(e.Key) + "=" + Text(e.Value)));
                        Assert.True(
                            expected == string.Join(",", scanned.Select(e => Convert.ToHexString(e.Name) + "=" + Text(e.Value))),
                            $"seed {seed}, step {step}: backward scan before {(start is null ? "null" : Convert.ToHexString(start))} by {limit}");
                    }
                    else
                    {
                        int limit = random.Next(1, 8);
                        byte[]? after = random.Next(3) == 0 ? null : name;
                        List<StoredElement> scanned = ScanPages(a => t.ScanElements(key, a, limit), after, limit).SelectMany(p => p.Elements).ToList();
                        Assert.True(
                            model.Where(e => after is null || ByteOrder.Compare(e.Key, after) > 0).Select(e => Convert.ToHexString(e.Key) + "=" + Text(e.Value))
                                .SequenceEqual(scanned.Select(e => Convert.ToHexString(e.Name) + "=" + Text(e.Value))),
                            $"seed {seed}, step {step}: scan after {(after is null ? "null" : Convert.ToHexString(after))} by {limit}");
                    }
                }
            }),
            Now);

        Assert.Equal(
            model.Select(e => Convert.ToHexString(e.Key) + "=" + Text(e.Value)),
            engine.ScanElements(key, null, 1000).Elements.Select(e => Convert.ToHexString(e.Name) + "=" + Text(e.Value)));
    }

    [Fact]
    public async Task ExecuteAsync_OperationWritingHeaderAndElementsThrows_LeavesNeither()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "old", "header");
        await PutElements(engine, "old", ("kept", "1"));

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.Write(Key("new"), new StoredRecord(Key("header"), 0));
                t.WriteElement(Key("new"), Key("f"), Key("lost"));
                t.Write(Key("old"), new StoredRecord(Key("replaced"), 0));
                t.DeleteAllElements(Key("old"));
                t.WriteElement(Key("old"), Key("g"), Key("lost"));
                throw new InvalidOperationException("boom");
            }),
            Now));

        Assert.Null(Get(engine, "new"));
        Assert.Empty(ScanTexts(engine, "new"));
        Assert.Equal("header", Get(engine, "old"));
        Assert.Equal(["kept=1"], ScanTexts(engine, "old"));
        AssertCounts(engine, keys: 1, withExpiry: 0);
    }

    [Fact]
    public async Task ExecuteAsync_ThrowingElementOperationsAmongConcurrentOnes_FailAlone()
    {
        IStorageEngine engine = CreateEngine();

        Task[] tasks = Enumerable.Range(0, 40)
            .Select(i => Task.Run(async () => await engine.ExecuteAsync(
                new DelegateOperation(t =>
                {
                    t.Write(Key($"k{i}"), new StoredRecord(Key("header"), 0));
                    t.WriteElement(Key($"k{i}"), Key("own"), Key($"v{i}"));
                    t.WriteElement(Key("shared"), Key($"e{i:D2}"), Key($"v{i}"));
                    if (i % 2 == 1)
                    {
                        throw new InvalidOperationException($"operation {i} fails");
                    }
                }),
                Now)))
            .ToArray();
        await Task.WhenAll(tasks).ContinueWith(_ => { }, TaskScheduler.Default);

        for (int i = 0; i < 40; i++)
        {
            string? expected = i % 2 == 0 ? $"v{i}" : null;
            Assert.Equal(expected, ReadElementText(engine, $"k{i}", Key("own")));
            Assert.Equal(expected, ReadElementText(engine, "shared", Key($"e{i:D2}")));
        }

        Assert.Equal(20, engine.ScanElements(Key("shared"), null, 100).Elements.Count);
        Assert.Equal(20, engine.KeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_FiftyConcurrentElementIncrements_ProduceExactlyFifty()
    {
        IStorageEngine engine = CreateEngine();

        Task[] increments = Enumerable.Range(0, 50)
            .Select(_ => Task.Run(async () => await engine.ExecuteAsync(IncrementElement("h", "counter"), Now)))
            .ToArray();
        await Task.WhenAll(increments);

        Assert.Equal("50", ReadElementText(engine, "h", Key("counter")));
    }

    [Fact]
    public async Task Delete_KeyRecord_RemovesItsElementsAndNoOtherKeys()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "a", "header");
        await PutElements(engine, "a", ("f", "1"), ("g", "2"));
        await PutElements(engine, "ab", ("f", "3"));
        await PutElements(engine, "headless", ("f", "4"));

        await Remove(engine, "a");
        await Remove(engine, "headless");

        Assert.Null(Get(engine, "a"));
        Assert.Empty(ScanTexts(engine, "a"));
        Assert.Empty(ScanTexts(engine, "headless"));
        Assert.Equal(["f=3"], ScanTexts(engine, "ab"));
        AssertCounts(engine, keys: 0, withExpiry: 0);
    }

    [Fact]
    public async Task Delete_ThenWriteElementsInTheSameOperation_KeepsOnlyTheNewOnes()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "a", "old header");
        await PutElements(engine, "a", ("old", "1"));

        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.Delete(Key("a"));
                t.Write(Key("a"), new StoredRecord(Key("new header"), 0));
                t.WriteElement(Key("a"), Key("new"), Key("2"));
            }),
            Now);

        Assert.Equal("new header", Get(engine, "a"));
        Assert.Equal(["new=2"], ScanTexts(engine, "a"));
    }

    [Fact]
    public async Task Write_KeyRecord_LeavesItsElements()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "a", "header 1");
        await PutElements(engine, "a", ("f", "1"));

        await Put(engine, "a", "header 2", expiresAt: Now + 1000);

        Assert.Equal(["f=1"], ScanTexts(engine, "a"));
    }

    [Fact]
    public async Task DeleteAllElements_KeepsTheRecordAndElementsWrittenAfterIt()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "a", "header");
        await PutElements(engine, "a", ("f", "1"), ("g", "2"));

        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.WriteElement(Key("a"), Key("before"), Key("lost"));
                t.DeleteAllElements(Key("a"));
                t.WriteElement(Key("a"), Key("g"), Key("3"));
            }),
            Now);

        Assert.Equal("header", Get(engine, "a"));
        Assert.Equal(["g=3"], ScanTexts(engine, "a"));
        AssertCounts(engine, keys: 1, withExpiry: 0);
    }

    [Fact]
    public async Task RemoveExpiredAsync_SweptKey_TakesItsElementsWithIt()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "expiring", "header", expiresAt: Now + 10);
        await PutElements(engine, "expiring", ("f", "1"), ("g", "2"));
        await Put(engine, "later", "header", expiresAt: Now + 1000);
        await PutElements(engine, "later", ("f", "3"));
        await Put(engine, "plain", "header");
        await PutElements(engine, "plain", ("f", "4"));

        // Until the sweep, the elements of an expired key stay stored: element reads do not consult the record.
        Assert.Null(Get(engine, "expiring", now: Now + 10));
        Assert.Equal(["f=1", "g=2"], ScanTexts(engine, "expiring"));

        Assert.Equal(1, await engine.RemoveExpiredAsync(Now + 10, 100));

        Assert.Empty(ScanTexts(engine, "expiring"));
        Assert.Equal(["f=3"], ScanTexts(engine, "later"));
        Assert.Equal(["f=4"], ScanTexts(engine, "plain"));
        AssertCounts(engine, keys: 2, withExpiry: 1);
    }

    [Fact]
    public async Task ClearAsync_WithElements_RemovesThemAndAcceptsNewOnes()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "a", "header");
        await PutElements(engine, "a", ("f", "1"));
        await PutElements(engine, "headless", ("f", "2"));

        await engine.ClearAsync();

        Assert.Empty(ScanTexts(engine, "a"));
        Assert.Empty(ScanTexts(engine, "headless"));
        Assert.False(engine.TryReadElement(Key("a"), Key("f"), out _));
        await PutElements(engine, "a", ("g", "3"));
        Assert.Equal(["g=3"], ScanTexts(engine, "a"));
    }

    /// <summary>Writes <paramref name="elements"/> of <paramref name="key"/> in one operation.</summary>
    protected static Task PutElements(IStorageEngine engine, string key, params (string Name, string Value)[] elements) =>
        engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                foreach ((string name, string value) in elements)
                {
                    t.WriteElement(Key(key), Key(name), Key(value));
                }
            }),
            Now).AsTask();

    /// <summary>Writes each of <paramref name="names"/> under <paramref name="key"/> with <see cref="ValueOf"/> its name, in one operation.</summary>
    protected static Task WriteNames(IStorageEngine engine, byte[] key, IEnumerable<byte[]> names) =>
        engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                foreach (byte[] name in names)
                {
                    t.WriteElement(key, name, ValueOf(name));
                }
            }),
            Now).AsTask();

    /// <summary>A value naming its element: its length and a digest of its bytes, so a mixed-up element shows.</summary>
    protected static byte[] ValueOf(byte[] name) =>
        Key($"{name.Length}:{KeyPartitioner.HashKey(name).ToString("x16", CultureInfo.InvariantCulture)}");

    protected static string? ReadElementText(IStorageEngine engine, string key, byte[] element) =>
        engine.TryReadElement(Key(key), element, out byte[]? value) ? Text(value) : null;

    /// <summary>Every element of <paramref name="key"/> as <c>name=value</c>, read page by page.</summary>
    protected static List<string> ScanTexts(IStorageEngine engine, string key, int limit = 2) =>
        ScanPages(after => engine.ScanElements(Key(key), after, limit), null, limit).SelectMany(p => p.Elements).Select(e => $"{Text(e.Name)}={Text(e.Value)}").ToList();

    /// <summary>Reads pages from <paramref name="after"/> until none remain, checking each page's shape.</summary>
    protected static List<ElementPage> ScanPages(Func<byte[]?, ElementPage> scan, byte[]? after, int limit)
    {
        var pages = new List<ElementPage>();
        byte[]? cursor = after;
        while (true)
        {
            ElementPage page = scan(cursor);
            pages.Add(page);
            Assert.InRange(page.Elements.Count, 0, limit);
            for (int i = 1; i < page.Elements.Count; i++)
            {
                Assert.True(ByteOrder.Compare(page.Elements[i - 1].Name, page.Elements[i].Name) < 0, "a page's names must increase");
            }

            if (cursor is not null && page.Elements.Count > 0)
            {
                Assert.True(ByteOrder.Compare(cursor, page.Elements[0].Name) < 0, "a page must start after its start name");
            }

            if (!page.HasMore)
            {
                Assert.Null(page.ResumeAfter);
                return pages;
            }

            Assert.Equal(limit, page.Elements.Count);
            Assert.True(pages.Count <= 10_000, "the scan does not terminate");
            cursor = page.ResumeAfter;
        }
    }

    private static string? ReadElementText(IStorageTransaction transaction, string key, string element) =>
        transaction.TryReadElement(Key(key), Key(element), out byte[]? value) ? Text(value) : null;

    private static List<string> ScanTexts(IStorageTransaction transaction, string key, int limit) =>
        ScanPages(after => transaction.ScanElements(Key(key), after, limit), null, limit).SelectMany(p => p.Elements).Select(e => $"{Text(e.Name)}={Text(e.Value)}").ToList();

    /// <summary>Reads an element counter, adds one, writes it back: correct only if the engine runs it atomically.</summary>
    private static DelegateOperation IncrementElement(string key, string element) => new(t =>
    {
        int current = t.TryReadElement(Key(key), Key(element), out byte[]? value) ? int.Parse(Text(value), CultureInfo.InvariantCulture) : 0;
        t.WriteElement(Key(key), Key(element), Key((current + 1).ToString(CultureInfo.InvariantCulture)));
    });

    /// <summary>Names where byte order matters: the empty name, prefixes of one another, 0x00 and 0xFF bytes.</summary>
    private static List<byte[]> TrickyNames() =>
    [
        [],
        [0x00],
        [0x00, 0x00],
        [0x00, 0xFF],
        [0x01],
        Key("a"),
        [(byte)'a', 0x00],
        [(byte)'a', 0x00, 0x00],
        [(byte)'a', 0xFF],
        Key("ab"),
        Key("abc"),
        Key("b"),
        [0x7F],
        [0x80],
        [0xFE, 0xFF],
        [0xFF],
        [0xFF, 0x00],
        [0xFF, 0xFF],
        [0xFF, 0xFF, 0xFF],
    ];

    /// <summary>
    /// Names of lengths around every threshold of the LMDB layout (inline names, long forms, and the runs of long names
    /// that share their first bytes, for keys stored inline and by digest), all starting with the same bytes; each length
    /// with three endings.
    /// </summary>
    private static List<byte[]> LongNames()
    {
        int[] lengths = [0, 1, 2, 100, 201, 202, 203, 210, 233, 234, 235, 300, 423, 424, 425, 440, 455, 456, 457, 470, 486, 487, 488, 500, 1000, 5000];
        var names = new List<byte[]>();
        foreach (int length in lengths)
        {
            names.Add(Filled(length, 'n'));
            if (length == 0)
            {
                continue;
            }

            byte[] lower = Filled(length, 'n');
            lower[^1] = (byte)'a';
            names.Add(lower);
            byte[] middle = Filled(length, 'n');
            middle[length / 2] = (byte)'o';
            names.Add(middle);
        }

        return names.DistinctBy(Convert.ToHexString).ToList();
    }

    private static byte[] Filled(int length, char fill)
    {
        byte[] bytes = new byte[length];
        Array.Fill(bytes, (byte)fill);
        return bytes;
    }

    private static byte[] RandomName(Random random)
    {
        byte[] alphabet = [0x00, (byte)'a', (byte)'b', 0xFF];
        byte[] name = new byte[random.Next(0, 4)];
        for (int i = 0; i < name.Length; i++)
        {
            name[i] = alphabet[random.Next(alphabet.Length)];
        }

        return name;
    }

    private static List<byte[]> Shuffled(List<byte[]> items, int seed)
    {
        byte[][] shuffled = [.. items];
        new Random(seed).Shuffle(shuffled);
        return [.. shuffled];
    }

    /// <summary>Two keys whose hashes share their first <paramref name="bits"/> bits: adjacent in every engine's hash order.</summary>
    private static (byte[] First, byte[] Second) KeysSharingHashPrefix(int bits)
    {
        var seen = new Dictionary<ulong, byte[]>();
        for (int i = 0; ; i++)
        {
            byte[] key = Key($"s{i}");
            ulong prefix = KeyPartitioner.HashKey(key) >> (64 - bits);
            if (seen.TryGetValue(prefix, out byte[]? other))
            {
                return (other, key);
            }

            seen[prefix] = key;
        }
    }
}
