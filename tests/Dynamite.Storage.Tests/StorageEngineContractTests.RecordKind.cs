using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Storage.Tests;

/// <summary>The record kind (<see cref="RecordKind"/>): every engine keeps it through writes, reads, overwrites and partition reads.</summary>
public abstract partial class StorageEngineContractTests
{
    [Theory]
    [InlineData(0L)]
    [InlineData(Now + 5000)]
    public async Task TryRead_TypedHeaderRecord_ReadsBackItsKindValueAndExpiry(long expiresAt)
    {
        IStorageEngine engine = CreateEngine();

        await PutKind(engine, "h", "header", RecordKind.TypedHeader, expiresAt);
        await Put(engine, "s", "plain", expiresAt);

        Assert.True(engine.TryRead(Key("h"), Now, out StoredRecord header));
        Assert.Equal(RecordKind.TypedHeader, header.Kind);
        Assert.Equal("header", Text(header.Value));
        Assert.Equal(expiresAt, header.ExpiresAtUnixMs);
        Assert.True(engine.TryRead(Key("s"), Now, out StoredRecord plain));
        Assert.Equal(RecordKind.Value, plain.Kind);
        Assert.Equal(expiresAt, plain.ExpiresAtUnixMs);
    }

    [Fact]
    public async Task ExecuteAsync_OverwriteChangingKind_ReadsTheLatestKind()
    {
        IStorageEngine engine = CreateEngine();

        await PutKind(engine, "k", "header", RecordKind.TypedHeader);
        await Put(engine, "k", "plain");
        Assert.True(engine.TryRead(Key("k"), Now, out StoredRecord first));
        Assert.Equal(RecordKind.Value, first.Kind);

        await PutKind(engine, "k", "header-again", RecordKind.TypedHeader, Now + 1000);
        Assert.True(engine.TryRead(Key("k"), Now, out StoredRecord second));
        Assert.Equal(RecordKind.TypedHeader, second.Kind);
        Assert.Equal("header-again", Text(second.Value));
        AssertCounts(engine, keys: 1, withExpiry: 1);
    }

    [Fact]
    public async Task Transaction_StagedTypedHeader_ReadsBackWithItsKindInTheSameOperation()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "k", "plain");
        RecordKind? staged = null;

        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.Write(Key("k"), new StoredRecord(Key("header"), 0, RecordKind.TypedHeader));
                staged = t.TryRead(Key("k"), out StoredRecord record) ? record.Kind : null;
            }),
            Now);

        Assert.Equal(RecordKind.TypedHeader, staged);
        Assert.True(engine.TryRead(Key("k"), Now, out StoredRecord committed));
        Assert.Equal(RecordKind.TypedHeader, committed.Kind);
    }

    [Fact]
    public async Task Transaction_CommittedTypedHeader_ReadsWithItsKindInALaterOperation()
    {
        IStorageEngine engine = CreateEngine();
        await PutKind(engine, "k", "header", RecordKind.TypedHeader);
        RecordKind? read = null;

        await engine.ExecuteAsync(new DelegateOperation(t => read = t.TryRead(Key("k"), out StoredRecord record) ? record.Kind : null), Now);

        Assert.Equal(RecordKind.TypedHeader, read);
    }

    [Fact]
    public async Task ReadPartition_MixedKinds_KeepsEachRecordsKind()
    {
        IStorageEngine engine = CreateEngine(4);
        for (int i = 0; i < 40; i++)
        {
            await PutKind(engine, $"k{i}", $"v{i}", i % 2 == 0 ? RecordKind.TypedHeader : RecordKind.Value, i % 3 == 0 ? Now + 1000 : 0);
        }

        var seen = new Dictionary<string, StoredRecord>();
        for (int p = 0; p < engine.Partitioner.PartitionCount; p++)
        {
            foreach (StoredEntry entry in engine.ReadPartition(new PartitionId(p), Now))
            {
                seen.Add(Text(entry.Key), entry.Record);
            }
        }

        Assert.Equal(40, seen.Count);
        for (int i = 0; i < 40; i++)
        {
            StoredRecord record = seen[$"k{i}"];
            Assert.Equal(i % 2 == 0 ? RecordKind.TypedHeader : RecordKind.Value, record.Kind);
            Assert.Equal($"v{i}", Text(record.Value));
            Assert.Equal(i % 3 == 0 ? Now + 1000 : 0, record.ExpiresAtUnixMs);
        }
    }

    [Fact]
    public async Task Scan_TypedHeaders_AreKeysLikeAnyOther()
    {
        IStorageEngine engine = CreateEngine();
        await PutKind(engine, "h", "header", RecordKind.TypedHeader);
        await Put(engine, "s", "plain");

        ScanPage page = engine.Scan(0, 100, Now);

        Assert.Equal(["h", "s"], page.Keys.Select(Text).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RemoveExpiredAsync_ExpiredTypedHeader_IsSweptWithItsElements()
    {
        IStorageEngine engine = CreateEngine();
        await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.Write(Key("h"), new StoredRecord(Key("header"), Now + 10, RecordKind.TypedHeader));
                t.WriteElement(Key("h"), Key("f"), Key("v"));
            }),
            Now);

        Assert.Equal(1, await engine.RemoveExpiredAsync(Now + 10, 100));

        Assert.False(engine.TryRead(Key("h"), Now, out _));
        Assert.Empty(engine.ScanElements(Key("h"), null, 10).Elements);
        AssertCounts(engine, keys: 0, withExpiry: 0);
    }

    protected static async Task PutKind(IStorageEngine engine, string key, string value, RecordKind kind, long expiresAt = 0) =>
        await engine.ExecuteAsync(new DelegateOperation(t => t.Write(Key(key), new StoredRecord(Key(value), expiresAt, kind))), Now);
}
