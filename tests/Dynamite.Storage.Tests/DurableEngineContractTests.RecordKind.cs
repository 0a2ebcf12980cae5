using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Tests;

/// <summary>The record kind survives a reopen under every fsync policy.</summary>
public abstract partial class DurableEngineContractTests
{
    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    [InlineData(FsyncPolicy.Never)]
    public async Task Reopen_TypedHeadersAndPlainValues_KeepTheirKinds(FsyncPolicy policy)
    {
        DurableStorageEngine first = Open(policy);
        await PutKind(first, "header", "h", RecordKind.TypedHeader);
        await PutKind(first, "expiring-header", "e", RecordKind.TypedHeader, Now + 1000);
        await Put(first, "plain", "p", expiresAt: Now + 1000);
        await PutKind(first, "was-header", "w", RecordKind.TypedHeader);
        await Put(first, "was-header", "now-plain");
        await first.DisposeAsync();

        DurableStorageEngine second = Open(policy);

        Assert.Equal(RecordKind.TypedHeader, KindOf(second, "header"));
        Assert.Equal(RecordKind.TypedHeader, KindOf(second, "expiring-header"));
        Assert.Equal(RecordKind.Value, KindOf(second, "plain"));
        Assert.Equal(RecordKind.Value, KindOf(second, "was-header"));
        Assert.True(second.TryRead(Key("expiring-header"), Now, out StoredRecord expiring));
        Assert.Equal(Now + 1000, expiring.ExpiresAtUnixMs);
        Assert.Equal("e", Text(expiring.Value));
        AssertCounts(second, keys: 4, withExpiry: 2);
    }

    private static RecordKind? KindOf(IStorageEngine engine, string key) =>
        engine.TryRead(Key(key), Now, out StoredRecord record) ? record.Kind : null;
}
