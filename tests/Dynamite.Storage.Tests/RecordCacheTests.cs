using System.Text;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Tests;

/// <summary>The record cache's rules on its own: fills that overlap a write are refused, the writer's changes win,
/// the byte bound holds, and the clock sweep spares entries read since it last passed.</summary>
public sealed class RecordCacheTests
{
    [Fact]
    public void Fill_WithTokenTakenBeforeNoWrite_IsCached()
    {
        var cache = new RecordCache(1 << 20);

        cache.Fill(Key("k"), Record("v"), cache.BeginFill());

        Assert.True(cache.TryGet(Key("k"), out CachedRecord cached));
        Assert.True(cached.TryGetLive(0, out StoredRecord record));
        Assert.Equal("v", Encoding.UTF8.GetString(record.Value));
    }

    [Fact]
    public void Fill_AfterAWriteBeganAndEnded_IsRefused()
    {
        var cache = new RecordCache(1 << 20);
        long token = cache.BeginFill();
        cache.BeginWrite();
        cache.EndWrite();

        // What the reader read may predate the write: caching it could hide the write.
        cache.Fill(Key("k"), Record("stale"), token);

        Assert.False(cache.TryGet(Key("k"), out _));
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void BeginFill_WhileAWriteRuns_RefusesTheFill()
    {
        var cache = new RecordCache(1 << 20);
        cache.BeginWrite();
        long token = cache.BeginFill();
        cache.Fill(Key("k"), Record("v"), token);
        cache.EndWrite();

        Assert.Equal(-1, token);
        Assert.False(cache.TryGet(Key("k"), out _));
    }

    [Fact]
    public void Apply_SetsTheLastChangeOfEachKeyAndCachesDeletesAsAbsent()
    {
        var cache = new RecordCache(1 << 20);
        cache.Fill(Key("deleted"), Record("old"), cache.BeginFill());
        var changes = new StagedChanges();
        changes.Stage(Key("k"), Record("first"));
        changes.Stage(Key("k"), Record("second", expiresAt: 99));
        changes.Stage(Key("deleted"), null);

        cache.BeginWrite();
        cache.Apply(changes);
        cache.EndWrite();

        Assert.True(cache.TryGet(Key("k"), out CachedRecord k));
        Assert.Equal("second", Encoding.UTF8.GetString(k.Value!));
        Assert.Equal(99, k.ExpiresAtUnixMs);
        Assert.True(cache.TryGet(Key("deleted"), out CachedRecord deleted));
        Assert.False(deleted.IsStored);
        Assert.False(deleted.TryGetLive(0, out _));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void Fill_PastCapacity_EvictsDownAndSparesRecentlyReadEntries()
    {
        const long capacity = 20_000;
        var cache = new RecordCache(capacity);
        for (int i = 0; i < 10; i++)
        {
            cache.Fill(Key($"hot{i}"), Record(new string('h', 100)), cache.BeginFill());
            Assert.True(cache.TryGet(Key($"hot{i}"), out _));
        }

        // Fill until the first sweep has run (the count drops), checking the bound all along.
        int filled = 0;
        int before;
        do
        {
            before = cache.Count;
            cache.Fill(Key($"cold{filled++}"), Record(new string('c', 100)), cache.BeginFill());
            Assert.True(cache.Bytes <= capacity, $"{cache.Bytes} bytes cached, capacity {capacity}");
        }
        while (cache.Count > before && filled < 10_000);

        Assert.True(cache.Bytes <= capacity * 9 / 10, $"{cache.Bytes} bytes cached after the sweep");
        for (int i = 0; i < 10; i++)
        {
            Assert.True(cache.TryGet(Key($"hot{i}"), out _), $"hot{i} was read before the sweep and should have been spared once");
        }
    }

    [Fact]
    public void Fill_ValueLargerThanASixteenthOfTheCapacity_IsNotCached()
    {
        var cache = new RecordCache(16_000);

        cache.Fill(Key("large"), Record(new string('x', 1_001)), cache.BeginFill());
        cache.Fill(Key("small"), Record(new string('x', 900)), cache.BeginFill());

        Assert.False(cache.TryGet(Key("large"), out _));
        Assert.True(cache.TryGet(Key("small"), out _));
    }

    [Fact]
    public void Clear_EmptiesAndZeroesTheByteCount()
    {
        var cache = new RecordCache(1 << 20);
        cache.Fill(Key("a"), Record("1"), cache.BeginFill());
        cache.Fill(Key("b"), Record("2"), cache.BeginFill());

        cache.BeginWrite();
        cache.Clear();
        cache.EndWrite();

        Assert.Equal(0, cache.Count);
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void ZeroCapacity_CachesNothing()
    {
        var cache = new RecordCache(0);
        var changes = new StagedChanges();
        changes.Stage(Key("k"), Record("v"));

        cache.Fill(Key("r"), Record("v"), cache.BeginFill());
        cache.BeginWrite();
        cache.Apply(changes);
        cache.EndWrite();

        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void MarkSwept_EntriesExpiringByThen_AreNoLongerTrusted()
    {
        var cache = new RecordCache(1 << 20);
        cache.Fill(Key("swept"), Record("v", expiresAt: 100), cache.BeginFill());
        cache.Fill(Key("later"), Record("v", expiresAt: 101), cache.BeginFill());
        cache.Fill(Key("forever"), Record("v"), cache.BeginFill());

        cache.BeginWrite();
        cache.MarkSwept(100);
        cache.EndWrite();

        // The sweep may have removed "swept" from the database: a read must go there, even one at an earlier time.
        Assert.False(cache.TryGet(Key("swept"), out _));
        Assert.True(cache.TryGet(Key("later"), out _));
        Assert.True(cache.TryGet(Key("forever"), out _));
    }

    [Fact]
    public void TryGetLive_ExpiredRecord_ReadsAsAbsentAndIsMarkedExpired()
    {
        var cached = new CachedRecord(Key("v"), expiresAtUnixMs: 100, charge: 1);

        Assert.True(cached.TryGetLive(99, out _));
        Assert.False(cached.TryGetLive(100, out _));
        Assert.True(cached.IsExpiredAt(100));
        Assert.True(cached.IsStored);
    }

    private static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);

    private static StoredRecord Record(string value, long expiresAt = 0) => new(Encoding.UTF8.GetBytes(value), expiresAt);
}
