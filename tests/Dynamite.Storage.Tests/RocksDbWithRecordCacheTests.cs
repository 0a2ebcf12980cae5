namespace Dynamite.Storage.Tests;

/// <summary>
/// The RocksDB engine's whole contract again, read through a record cache small enough (64 KiB) that the tests' own
/// writes fill it and make it evict, and too small for the large-value test's 64 KiB value: the cache must never change
/// what a read returns.
/// </summary>
public sealed class RocksDbWithRecordCacheTests : RocksDbStorageEngineTests
{
    protected override long RecordCacheBytes => 64 * 1024;
}
