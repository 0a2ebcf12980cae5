using System.Globalization;
using System.Text;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Storage.Tests;

/// <summary>
/// The behaviour every <see cref="IStorageEngine"/> must have, written once: each engine's test class derives
/// from this and supplies the engine. Time is always passed explicitly (<see cref="Now"/>), never read from a
/// clock, so expiry tests are exact.
/// </summary>
public abstract partial class StorageEngineContractTests : IAsyncLifetime
{
    protected const long Now = 1_700_000_000_000;

    private readonly List<IStorageEngine> _engines = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (IStorageEngine engine in _engines)
        {
            await engine.DisposeAsync();
        }
    }

    [Fact]
    public void TryRead_AbsentKey_ReturnsFalse()
    {
        IStorageEngine engine = CreateEngine();

        Assert.False(engine.TryRead(Key("missing"), Now, out _));
        Assert.Equal(0, engine.KeyCount);
    }

    [Fact]
    public async Task TryRead_AfterWrite_ReturnsValueAndExpiry()
    {
        IStorageEngine engine = CreateEngine();

        await Put(engine, "a", "alpha", expiresAt: Now + 5000);

        Assert.True(engine.TryRead(Key("a"), Now, out StoredRecord record));
        Assert.Equal("alpha", Text(record.Value));
        Assert.Equal(Now + 5000, record.ExpiresAtUnixMs);
        Assert.Equal(1, engine.KeyCount);
        Assert.Equal(1, engine.KeysWithExpiryCount);
    }

    [Fact]
    public async Task ExecuteAsync_Overwrite_ReadsLatestValueAndCountsKeyOnce()
    {
        IStorageEngine engine = CreateEngine();

        await Put(engine, "a", "first");
        await Put(engine, "a", "second");

        Assert.Equal("second", Get(engine, "a"));
        Assert.Equal(1, engine.KeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_Delete_RemovesKeyAndDecrementsKeyCount()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "a", "alpha");
        await Put(engine, "b", "beta");

        await Remove(engine, "a");

        Assert.Null(Get(engine, "a"));
        Assert.Equal("beta", Get(engine, "b"));
        Assert.Equal(1, engine.KeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_DeleteAbsentKey_LeavesKeyCountUnchanged()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "a", "alpha");

        await Remove(engine, "missing");

        Assert.Equal(1, engine.KeyCount);
        Assert.Equal("alpha", Get(engine, "a"));
    }

    [Fact]
    public async Task ExecuteAsync_EmptyAndBinaryValues_RoundTripExactly()
    {
        IStorageEngine engine = CreateEngine();
        byte[] allBytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.Write(Key("empty-value"), new StoredRecord([], 0));
                t.Write([], new StoredRecord(Key("empty-key"), 0));
                t.Write([0, 0, 255], new StoredRecord(allBytes, 0));
            }),
            Now);

        Assert.True(engine.TryRead(Key("empty-value"), Now, out StoredRecord empty));
        Assert.Empty(empty.Value);
        Assert.True(engine.TryRead([], Now, out StoredRecord emptyKey));
        Assert.Equal("empty-key", Text(emptyKey.Value));
        Assert.True(engine.TryRead([0, 0, 255], Now, out StoredRecord binary));
        Assert.Equal(allBytes, binary.Value);
        Assert.False(engine.TryRead([0, 0], Now, out _));
        Assert.Equal(3, engine.KeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_LargeValue_RoundTripsExactly()
    {
        IStorageEngine engine = CreateEngine();
        byte[] large = new byte[1 << 20];
        new Random(42).NextBytes(large);

        await engine.ExecuteAsync(new DelegateOperation(t => t.Write(Key("large"), new StoredRecord((byte[])large.Clone(), 0))), Now);

        Assert.True(engine.TryRead(Key("large"), Now, out StoredRecord record));
        Assert.Equal(large, record.Value);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(-60_000)]
    public async Task TryRead_ExpiryAtOrBeforeNow_ReadsAbsent(long expiryOffsetMs)
    {
        IStorageEngine engine = CreateEngine();

        await Put(engine, "a", "alpha", expiresAt: Now + expiryOffsetMs, now: Now - 100_000);

        Assert.False(engine.TryRead(Key("a"), Now, out _));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(60_000)]
    public async Task TryRead_ExpiryAfterNow_ReadsPresent(long expiryOffsetMs)
    {
        IStorageEngine engine = CreateEngine();

        await Put(engine, "a", "alpha", expiresAt: Now + expiryOffsetMs);

        Assert.Equal("alpha", Get(engine, "a"));
    }

    [Fact]
    public async Task TryRead_ExpiredKey_StaysStoredAndCountedUntilSwept()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "a", "alpha", expiresAt: Now + 10);

        Assert.Null(Get(engine, "a", now: Now + 10));

        // Expiry on read is lazy: nothing was removed, so an earlier time still sees the record.
        Assert.Equal("alpha", Get(engine, "a", now: Now + 9));
        Assert.Equal(1, engine.KeyCount);
        Assert.Equal(1, engine.KeysWithExpiryCount);
    }

    [Fact]
    public async Task RemoveExpiredAsync_SomeExpired_RemovesOnlyThoseAndDecrementsCounters()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "a", "alpha", expiresAt: Now + 10);
        await Put(engine, "b", "beta", expiresAt: Now + 20);
        await Put(engine, "c", "gamma", expiresAt: Now + 30);
        await Put(engine, "d", "delta");

        int removed = await engine.RemoveExpiredAsync(Now + 20, 100);

        Assert.Equal(2, removed);
        Assert.Equal(2, engine.KeyCount);
        Assert.Equal(1, engine.KeysWithExpiryCount);
        Assert.Null(Get(engine, "a", now: Now));
        Assert.Null(Get(engine, "b", now: Now));
        Assert.Equal("gamma", Get(engine, "c", now: Now + 25));
        Assert.Equal("delta", Get(engine, "d"));
        Assert.Equal(0, await engine.RemoveExpiredAsync(Now + 20, 100));
    }

    [Fact]
    public async Task RemoveExpiredAsync_AskedForTheKeys_ReportsEachKeyItRemoved()
    {
        IStorageEngine engine = CreateEngine();
        // A key longer than any engine's inline limit (LMDB keeps long keys under a digest) is reported whole.
        string longKey = "long:" + new string('x', 2000);
        await Put(engine, "a", "alpha", expiresAt: Now + 10);
        await Put(engine, longKey, "beta", expiresAt: Now + 10);
        await Put(engine, "c", "gamma", expiresAt: Now + 30);
        await Put(engine, "d", "delta");
        var removedKeys = new List<byte[]>();

        Assert.Equal(2, await engine.RemoveExpiredAsync(Now + 20, 100, removedKeys));

        Assert.Equal(new[] { "a", longKey }.Order(), removedKeys.Select(k => Encoding.UTF8.GetString(k)).Order());
        Assert.Null(Get(engine, longKey, now: Now));
    }

    [Fact]
    public async Task RemoveExpiredAsync_MaxKeys_RemovesAtMostThatMany()
    {
        IStorageEngine engine = CreateEngine();
        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                for (int i = 0; i < 10; i++)
                {
                    t.Write(Key($"k{i}"), new StoredRecord(Key("v"), Now + i + 1));
                }
            }),
            Now);

        Assert.Equal(3, await engine.RemoveExpiredAsync(Now + 100, 3));
        Assert.Equal(7, engine.KeyCount);
        Assert.Equal(7, engine.KeysWithExpiryCount);
        Assert.Equal(7, await engine.RemoveExpiredAsync(Now + 100, 100));
        Assert.Equal(0, engine.KeyCount);
        Assert.Equal(0, engine.KeysWithExpiryCount);
    }

    [Fact]
    public async Task Counters_OverwriteAndDeleteChangingExpiry_StayExact()
    {
        IStorageEngine engine = CreateEngine();

        await Put(engine, "a", "1");
        AssertCounts(engine, keys: 1, withExpiry: 0);
        await Put(engine, "a", "2", expiresAt: Now + 1000);
        AssertCounts(engine, keys: 1, withExpiry: 1);
        await Put(engine, "a", "3", expiresAt: Now + 2000);
        AssertCounts(engine, keys: 1, withExpiry: 1);
        await Put(engine, "a", "4");
        AssertCounts(engine, keys: 1, withExpiry: 0);
        await Put(engine, "b", "1", expiresAt: Now + 1000);
        AssertCounts(engine, keys: 2, withExpiry: 1);
        await Remove(engine, "b");
        AssertCounts(engine, keys: 1, withExpiry: 0);
        await Remove(engine, "a");
        AssertCounts(engine, keys: 0, withExpiry: 0);
    }

    [Fact]
    public async Task ExecuteAsync_WriteOverExpiredUnsweptKey_CountsKeyOnce()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "a", "old", expiresAt: Now + 1);

        await Put(engine, "a", "new", now: Now + 5);

        Assert.Equal("new", Get(engine, "a", now: Now + 5));
        AssertCounts(engine, keys: 1, withExpiry: 0);
        Assert.Equal(0, await engine.RemoveExpiredAsync(Now + 5, 100));
    }

    [Fact]
    public async Task ExecuteAsync_ReadThenWriteOverExpiredUnsweptKey_CountsKeyOnceAndDropsItsExpiry()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "a", "old", expiresAt: Now + 1);
        await Put(engine, "b", "kept", expiresAt: Now + 1000);

        // A merge-style write: the operation reads first (the key reads as absent: expired), then writes.
        bool sawA = true;
        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                sawA = t.TryRead(Key("a"), out _);
                t.Write(Key("a"), new StoredRecord(Key("new"), 0));
                t.TryRead(Key("b"), out _);
                t.Delete(Key("b"));
            }),
            Now + 5);

        Assert.False(sawA);
        Assert.Equal("new", Get(engine, "a", now: Now + 5));
        Assert.Null(Get(engine, "b", now: Now + 5));
        AssertCounts(engine, keys: 1, withExpiry: 0);
        Assert.Equal(0, await engine.RemoveExpiredAsync(Now + 5_000, 100));
        AssertCounts(engine, keys: 1, withExpiry: 0);
    }

    [Fact]
    public async Task ExecuteAsync_SameKeyWrittenTwiceInOneOperation_KeepsLastAndCountsOnce()
    {
        IStorageEngine engine = CreateEngine();

        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.Write(Key("a"), new StoredRecord(Key("first"), Now + 1000));
                t.Write(Key("a"), new StoredRecord(Key("second"), 0));
                t.Write(Key("b"), new StoredRecord(Key("doomed"), 0));
                t.Delete(Key("b"));
            }),
            Now);

        Assert.Equal("second", Get(engine, "a"));
        Assert.Null(Get(engine, "b"));
        AssertCounts(engine, keys: 1, withExpiry: 0);
    }

    [Fact]
    public async Task ExecuteAsync_FiftyConcurrentIncrements_ProduceExactlyFifty()
    {
        IStorageEngine engine = CreateEngine();

        Task[] increments = Enumerable.Range(0, 50)
            .Select(_ => Task.Run(async () => await engine.ExecuteAsync(Increment("counter"), Now)))
            .ToArray();
        await Task.WhenAll(increments);

        Assert.Equal("50", Get(engine, "counter"));
        Assert.Equal(1, engine.KeyCount);
    }

    [Fact]
    public async Task ExecuteAsync_OperationThrows_WritesNothingAndRethrows()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "a", "kept");

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () => await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.Write(Key("a"), new StoredRecord(Key("lost"), 0));
                t.Write(Key("b"), new StoredRecord(Key("lost"), Now + 1000));
                throw new InvalidOperationException("boom");
            }),
            Now));

        Assert.Equal("boom", thrown.Message);
        Assert.Equal("kept", Get(engine, "a"));
        Assert.Null(Get(engine, "b"));
        AssertCounts(engine, keys: 1, withExpiry: 0);
    }

    [Fact]
    public async Task ExecuteAsync_ThrowingOperationsAmongConcurrentOnes_FailAlone()
    {
        IStorageEngine engine = CreateEngine();

        Task[] tasks = Enumerable.Range(0, 40)
            .Select(i => Task.Run(async () => await engine.ExecuteAsync(
                new DelegateOperation(t =>
                {
                    t.Write(Key($"k{i}"), new StoredRecord(Key($"v{i}"), 0));
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
            if (i % 2 == 0)
            {
                Assert.True(tasks[i].IsCompletedSuccessfully, $"operation {i} should succeed");
                Assert.Equal($"v{i}", Get(engine, $"k{i}"));
            }
            else
            {
                Assert.Equal($"operation {i} fails", Assert.IsType<InvalidOperationException>(tasks[i].Exception?.InnerException).Message);
                Assert.Null(Get(engine, $"k{i}"));
            }
        }

        Assert.Equal(20, engine.KeyCount);
    }

    [Fact]
    public async Task Transaction_ReadsWithinOperation_SeeOwnStagedChanges()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "a", "committed");
        var seen = new List<string?>();

        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                seen.Add(ReadText(t, "a"));
                t.Write(Key("a"), new StoredRecord(Key("staged"), 0));
                seen.Add(ReadText(t, "a"));
                t.Delete(Key("a"));
                seen.Add(ReadText(t, "a"));
                t.Write(Key("b"), new StoredRecord(Key("expired"), t.NowUnixMs));
                seen.Add(ReadText(t, "b"));
                t.Write(Key("c"), new StoredRecord(Key("live"), t.NowUnixMs + 1));
                seen.Add(ReadText(t, "c"));
                t.Write(Key("a"), new StoredRecord(Key("final"), 0));
                seen.Add(ReadText(t, "a"));
                seen.Add(t.NowUnixMs.ToString(CultureInfo.InvariantCulture));
            }),
            Now);

        Assert.Equal(["committed", "staged", null, null, "live", "final", Now.ToString(CultureInfo.InvariantCulture)], seen);
        Assert.Equal("final", Get(engine, "a"));
        Assert.Equal("live", Get(engine, "c"));
        AssertCounts(engine, keys: 3, withExpiry: 2);
    }

    [Fact]
    public async Task ExecuteAsync_MultiKeyOperation_AppliesAllOrNothing()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "alice", "100");
        await Put(engine, "bob", "0");

        await engine.ExecuteAsync(Transfer("alice", "bob", 30, failAfterWrites: false), Now);
        Assert.Equal("70", Get(engine, "alice"));
        Assert.Equal("30", Get(engine, "bob"));

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await engine.ExecuteAsync(Transfer("alice", "bob", 50, failAfterWrites: true), Now));
        Assert.Equal("70", Get(engine, "alice"));
        Assert.Equal("30", Get(engine, "bob"));
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(4, 7)]
    [InlineData(4, 64)]
    [InlineData(4, 10_000)]
    [InlineData(8, 1)]
    [InlineData(8, 7)]
    [InlineData(8, 64)]
    [InlineData(8, 10_000)]
    public async Task Scan_AllPages_ReturnEveryLiveKeyExactlyOnceInHashOrder(int partitionBits, int limit)
    {
        IStorageEngine engine = CreateEngine(partitionBits);
        List<string> live = await PutMany(engine, 200, "live");
        await PutMany(engine, 20, "expired", expiresAt: Now);

        List<ScanPage> pages = ScanAll(engine, limit, Now);

        List<string> scanned = pages.SelectMany(p => p.Keys).Select(Text).ToList();
        Assert.Equal(live.Order(StringComparer.Ordinal), scanned.Order(StringComparer.Ordinal));
        List<ulong> hashes = pages.SelectMany(p => p.Keys).Select(k => KeyPartitioner.HashKey(k)).ToList();
        Assert.Equal(hashes.Order(), hashes);
        Assert.Null(pages[^1].NextHash);
        foreach (ScanPage page in pages)
        {
            Assert.InRange(page.Keys.Count, 0, limit);
            if (page.NextHash is { } next && page.Keys.Count > 0)
            {
                Assert.True(next > KeyPartitioner.HashKey(page.Keys[^1]), "NextHash must lie after the page's last key");
            }
        }

        Assert.True(pages.Count >= (200 + limit - 1) / limit, "a page may not hold more than the limit");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public async Task Scan_ResumeFromNextHash_ReturnsExactlyTheKeysFromThatHashOn(int partitionBits)
    {
        IStorageEngine engine = CreateEngine(partitionBits);
        List<string> keys = await PutMany(engine, 100, "key");

        ScanPage first = engine.Scan(0, 10, Now);
        Assert.Equal(10, first.Keys.Count);
        Assert.NotNull(first.NextHash);
        ScanPage rest = engine.Scan(first.NextHash.Value, 1000, Now);

        Assert.Null(rest.NextHash);
        Assert.All(rest.Keys, k => Assert.True(KeyPartitioner.HashKey(k) >= first.NextHash.Value));
        Assert.Equal(
            keys.Order(StringComparer.Ordinal),
            first.Keys.Concat(rest.Keys).Select(Text).Order(StringComparer.Ordinal));

        const ulong middle = 1UL << 63;
        ScanPage upper = engine.Scan(middle, 1000, Now);
        Assert.Equal(
            keys.Where(k => KeyPartitioner.HashKey(Key(k)) >= middle).Order(StringComparer.Ordinal),
            upper.Keys.Select(Text).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Scan_EmptyEngine_ReturnsNoKeysAndEnd()
    {
        IStorageEngine engine = CreateEngine();

        ScanPage page = engine.Scan(0, 10, Now);

        Assert.Empty(page.Keys);
        Assert.Null(page.NextHash);
    }

    [Theory]
    [InlineData(1, 700)]
    [InlineData(4, 300)]
    [InlineData(8, 300)]
    public async Task ReadPartition_EachPartition_ReturnsExactlyItsLiveKeys(int partitionBits, int keyCount)
    {
        IStorageEngine engine = CreateEngine(partitionBits);
        List<string> live = await PutMany(engine, keyCount, "live", expiresAt: Now + 60_000);
        await PutMany(engine, 30, "expired", expiresAt: Now);
        KeyPartitioner partitioner = engine.Partitioner;

        var seen = new List<string>();
        for (int p = 0; p < partitioner.PartitionCount; p++)
        {
            var partition = new PartitionId(p);
            List<StoredEntry> entries = engine.ReadPartition(partition, Now).ToList();

            Assert.Equal(
                live.Where(k => partitioner.PartitionOf(Key(k)) == partition).Order(StringComparer.Ordinal),
                entries.Select(e => Text(e.Key)).Order(StringComparer.Ordinal));
            Assert.All(entries, e =>
            {
                Assert.Equal("value-" + Text(e.Key), Text(e.Record.Value));
                Assert.Equal(Now + 60_000, e.Record.ExpiresAtUnixMs);
            });
            seen.AddRange(entries.Select(e => Text(e.Key)));
        }

        Assert.Equal(live.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ClearAsync_WithKeys_EmptiesEngineAndAcceptsNewWrites()
    {
        IStorageEngine engine = CreateEngine();
        await PutMany(engine, 50, "key");
        await PutMany(engine, 10, "expiring", expiresAt: Now + 1000);

        await engine.ClearAsync();

        AssertCounts(engine, keys: 0, withExpiry: 0);
        Assert.Null(Get(engine, "key-0"));
        Assert.Empty(engine.Scan(0, 1000, Now).Keys);
        Assert.Empty(Enumerable.Range(0, engine.Partitioner.PartitionCount).SelectMany(p => engine.ReadPartition(new PartitionId(p), Now)));
        Assert.Equal(0, await engine.RemoveExpiredAsync(Now + 2000, 100));

        await Put(engine, "after", "clear");
        Assert.Equal("clear", Get(engine, "after"));
        AssertCounts(engine, keys: 1, withExpiry: 0);
    }

    protected abstract IStorageEngine CreateEngineCore(KeyPartitioner partitioner);

    /// <summary>Remembers <paramref name="engine"/> so it is disposed after the test.</summary>
    protected T Track<T>(T engine)
        where T : IStorageEngine
    {
        _engines.Add(engine);
        return engine;
    }

    protected static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);

    protected static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    protected static Task Put(IStorageEngine engine, string key, string value, long expiresAt = 0, long now = Now) =>
        engine.ExecuteAsync(new DelegateOperation(t => t.Write(Key(key), new StoredRecord(Key(value), expiresAt))), now).AsTask();

    protected static Task Remove(IStorageEngine engine, string key) =>
        engine.ExecuteAsync(new DelegateOperation(t => t.Delete(Key(key))), Now).AsTask();

    protected static string? Get(IStorageEngine engine, string key, long now = Now) =>
        engine.TryRead(Key(key), now, out StoredRecord record) ? Text(record.Value) : null;

    /// <summary>Writes <paramref name="count"/> keys <c>prefix-i</c> with values <c>value-prefix-i</c> in one operation.</summary>
    protected static async Task<List<string>> PutMany(IStorageEngine engine, int count, string prefix, long expiresAt = 0)
    {
        List<string> keys = Enumerable.Range(0, count).Select(i => $"{prefix}-{i}").ToList();
        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                foreach (string key in keys)
                {
                    t.Write(Key(key), new StoredRecord(Key("value-" + key), expiresAt));
                }
            }),
            Now - 1);
        return keys;
    }

    /// <summary>Reads a counter, adds one, writes it back: correct only if the engine runs it atomically.</summary>
    protected static IStorageOperation Increment(string key) => new DelegateOperation(t =>
    {
        int current = ReadText(t, key) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : 0;
        t.Write(Key(key), new StoredRecord(Key((current + 1).ToString(CultureInfo.InvariantCulture)), 0));
    });

    protected static string? ReadText(IStorageTransaction transaction, string key) =>
        transaction.TryRead(Key(key), out StoredRecord record) ? Text(record.Value) : null;

    protected static void AssertCounts(IStorageEngine engine, long keys, long withExpiry)
    {
        Assert.Equal(keys, engine.KeyCount);
        Assert.Equal(withExpiry, engine.KeysWithExpiryCount);
    }

    private IStorageEngine CreateEngine(int partitionBits = 8) => Track(CreateEngineCore(new KeyPartitioner(partitionBits)));

    protected static List<ScanPage> ScanAll(IStorageEngine engine, int limit, long now)
    {
        var pages = new List<ScanPage>();
        ulong? cursor = 0;
        while (cursor is { } from)
        {
            ScanPage page = engine.Scan(from, limit, now);
            pages.Add(page);
            Assert.True(pages.Count <= 10_000, "the scan does not terminate");
            cursor = page.NextHash;
        }

        return pages;
    }

    private static IStorageOperation Transfer(string from, string to, int amount, bool failAfterWrites) => new DelegateOperation(t =>
    {
        int fromBalance = int.Parse(ReadText(t, from)!, CultureInfo.InvariantCulture);
        int toBalance = int.Parse(ReadText(t, to)!, CultureInfo.InvariantCulture);
        t.Write(Key(from), new StoredRecord(Key((fromBalance - amount).ToString(CultureInfo.InvariantCulture)), 0));
        t.Write(Key(to), new StoredRecord(Key((toBalance + amount).ToString(CultureInfo.InvariantCulture)), 0));
        if (failAfterWrites)
        {
            throw new InvalidOperationException("transfer aborted");
        }
    });
}
