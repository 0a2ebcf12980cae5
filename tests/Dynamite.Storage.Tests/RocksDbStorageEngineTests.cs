using System.Buffers.Binary;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.RocksDb;
using Dynamite.Tests.Shared;
using Microsoft.Extensions.Time.Testing;
using RocksDbSharp;

namespace Dynamite.Storage.Tests;

/// <summary>
/// Runs the durable engine contract against the RocksDB engine, plus what only RocksDB does: large values in blob
/// files, the directory lock, flush into table files, the batch policy's WAL sync, and format versioning.
/// </summary>
public class RocksDbStorageEngineTests : DurableEngineContractTests
{
    /// <summary>The batch policy's WAL sync interval.</summary>
    private static readonly TimeSpan SyncInterval = TimeSpan.FromSeconds(1);

    protected override string EngineName => "rocksdb";

    protected override string DatabaseName => RocksDbStorageEngine.DirectoryName;

    [Fact]
    public async Task Reopen_AfterFlush_ReadsLargeValuesBackFromBlobFiles()
    {
        DurableStorageEngine first = Open(FsyncPolicy.Always);
        byte[] large = new byte[64 * 1024];
        new Random(7).NextBytes(large);
        await first.ExecuteAsync(new DelegateOperation(t => t.Write(Key("large"), new StoredRecord((byte[])large.Clone(), Now + 5000))), Now);
        await Put(first, "small", "s");
        await first.FlushAsync();

        // Values of 4 KiB and more are kept out of the LSM tree, in blob files.
        Assert.NotEmpty(Directory.GetFiles(first.DatabasePath, "*.blob"));
        await first.DisposeAsync();

        DurableStorageEngine second = Open(FsyncPolicy.Always);
        Assert.True(second.TryRead(Key("large"), Now, out StoredRecord record));
        Assert.Equal(large, record.Value);
        Assert.Equal(Now + 5000, record.ExpiresAtUnixMs);
        Assert.Equal("s", Get(second, "small"));
        AssertCounts(second, keys: 2, withExpiry: 1);
    }

    /// <summary>
    /// Scans and partition reads merge table files with the memtable: every key once, in hash order, across partition
    /// chunks (256 records) and scan pages. (Kept from trying a hash memtable whose iterators saw one hash prefix at a
    /// time; any change of the data family's memtable or iterators must still pass it.)
    /// </summary>
    [Fact]
    public async Task ScanAndReadPartition_KeysInTableFilesAndInTheMemtable_EveryKeyOnceInHashOrder()
    {
        DurableStorageEngine engine = Track(Create(DataDirectory, new KeyPartitioner(1), FsyncPolicy.Never, RecordCacheBytes));
        List<string> keys = await PutMany(engine, 700, "flushed");
        await engine.FlushAsync();
        keys.AddRange(await PutMany(engine, 700, "fresh"));

        foreach (int limit in new[] { 1, 7, 1000 })
        {
            List<byte[]> scanned = ScanAll(engine, limit, Now).SelectMany(p => p.Keys).ToList();
            Assert.Equal(keys.Order(StringComparer.Ordinal), scanned.Select(Text).Order(StringComparer.Ordinal));
            List<ulong> hashes = scanned.Select(k => KeyPartitioner.HashKey(k)).ToList();
            Assert.Equal(hashes.Order(), hashes);
        }

        var read = new List<string>();
        for (int p = 0; p < engine.Partitioner.PartitionCount; p++)
        {
            List<StoredEntry> entries = engine.ReadPartition(new PartitionId(p), Now).ToList();
            Assert.All(entries, e => Assert.Equal(p, engine.Partitioner.PartitionOf(e.Key).Value));
            List<ulong> hashes = entries.Select(e => KeyPartitioner.HashKey(e.Key)).ToList();
            Assert.Equal(hashes.Order(), hashes);
            read.AddRange(entries.Select(e => Text(e.Key)));
        }

        Assert.Equal(keys.Order(StringComparer.Ordinal), read.Order(StringComparer.Ordinal));

        // From the middle of the hash space: exactly the upper half.
        const ulong middle = 1UL << 63;
        Assert.Equal(
            keys.Where(k => KeyPartitioner.HashKey(Key(k)) >= middle).Order(StringComparer.Ordinal),
            engine.Scan(middle, 10_000, Now).Keys.Select(Text).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Open_DirectoryAlreadyOpen_Throws()
    {
        Open(FsyncPolicy.Always);

        Assert.Throws<RocksDbException>(() => new RocksDbStorageEngine(DataDirectory, new KeyPartitioner(8), FsyncPolicy.Always));
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    [InlineData(FsyncPolicy.Never)]
    public async Task FlushAsync_AfterWrites_FlushesMemtablesIntoTableFiles(FsyncPolicy policy)
    {
        DurableStorageEngine engine = Open(policy);
        await PutMany(engine, 50, "k");
        Assert.Empty(Directory.GetFiles(engine.DatabasePath, "*.sst"));

        await engine.FlushAsync();

        Assert.NotEmpty(Directory.GetFiles(engine.DatabasePath, "*.sst"));
        Assert.Equal("value-k-7", Get(engine, "k-7"));
        await Put(engine, "after-flush", "1");
        Assert.Equal("1", Get(engine, "after-flush"));
        AssertCounts(engine, keys: 51, withExpiry: 0);
    }

    [Fact]
    public async Task BatchPolicy_OneIntervalAfterAWrite_SyncsTheWalOnceAndNotWhenIdle()
    {
        var clock = new FakeTimeProvider();
        RocksDbStorageEngine engine = Track(new RocksDbStorageEngine(DataDirectory, new KeyPartitioner(8), FsyncPolicy.Batch, clock: clock));
        await Put(engine, "a", "1");
        Assert.Equal(0, engine.WalSyncCount);

        // The timer queues the sync; a write queued after it completes only once the writer got past it.
        clock.Advance(SyncInterval);
        await Put(engine, "b", "2");
        Assert.Equal(1, engine.WalSyncCount);

        // "b" was written after that sync: one more interval syncs it, and then nothing is left to sync.
        clock.Advance(SyncInterval);
        await engine.ExecuteAsync(new DelegateOperation(_ => { }), Now);
        clock.Advance(SyncInterval);
        await engine.ExecuteAsync(new DelegateOperation(_ => { }), Now);
        Assert.Equal(2, engine.WalSyncCount);
    }

    [Fact]
    public async Task BatchPolicy_NothingWrittenSinceTheLastSync_NoTimerFires()
    {
        var fake = new FakeTimeProvider();
        var clock = new FiredTimerCounter(fake);
        RocksDbStorageEngine engine = Track(new RocksDbStorageEngine(DataDirectory, new KeyPartitioner(8), FsyncPolicy.Batch, clock: clock));
        fake.Advance(SyncInterval * 10);
        Assert.Equal(0, clock.Fired);

        // A write arms the timer once; its sync leaves nothing to arm it again.
        await Put(engine, "a", "1");
        fake.Advance(SyncInterval);
        await engine.ExecuteAsync(new DelegateOperation(_ => { }), Now);
        Assert.Equal(1, engine.WalSyncCount);
        long fired = clock.Fired;
        fake.Advance(SyncInterval * 10);
        Assert.Equal(fired, clock.Fired);
        Assert.Equal(1, engine.WalSyncCount);
    }

    [Fact]
    public async Task Constructor_DatabaseFromNewerFormatVersion_ThrowsNotSupported()
    {
        DurableStorageEngine engine = Open(FsyncPolicy.Always);
        await Put(engine, "a", "1");
        await engine.DisposeAsync();
        WriteRaw(engine.DatabasePath, "meta", "format-version"u8.ToArray(), BitConverter.GetBytes(4));

        var thrown = Assert.Throws<NotSupportedException>(() => new RocksDbStorageEngine(DataDirectory, new KeyPartitioner(8), FsyncPolicy.Always));

        Assert.Contains("format version 4", thrown.Message, StringComparison.Ordinal);
        Assert.Contains(engine.DatabasePath, thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Constructor_DatabaseOfFormatVersion1_GainsTheElementsFamilyAndKeepsItsKeys()
    {
        DurableStorageEngine first = Open(FsyncPolicy.Always);
        await Put(first, "a", "1", expiresAt: Now + 1000);
        await first.DisposeAsync();
        using (RocksDbSharp.RocksDb raw = OpenRaw(first.DatabasePath))
        {
            raw.DropColumnFamily("elements");
            raw.DropColumnFamily("index");
            raw.Put("format-version"u8.ToArray(), BitConverter.GetBytes(1), raw.GetColumnFamily("meta"));
        }

        DurableStorageEngine second = Open(FsyncPolicy.Always);

        Assert.Equal("1", Get(second, "a"));
        AssertCounts(second, keys: 1, withExpiry: 1);
        await PutElements(second, "a", ("f", "2"));
        Assert.Equal(["f=2"], ScanTexts(second, "a"));
        await second.DisposeAsync();
        using RocksDbSharp.RocksDb reopened = OpenRaw(second.DatabasePath);
        Assert.Equal(3, BitConverter.ToInt32(reopened.Get("format-version"u8.ToArray(), reopened.GetColumnFamily("meta"))));
    }

    [Fact]
    public async Task TryRead_RecordWithUnknownHeader_ThrowsRatherThanMisreading()
    {
        DurableStorageEngine engine = Open(FsyncPolicy.Always);
        await engine.DisposeAsync();
        byte[] key = Key("future");
        byte[] dataKey = new byte[8 + key.Length];
        BinaryPrimitives.WriteUInt64BigEndian(dataKey, KeyPartitioner.HashKey(key));
        key.CopyTo(dataKey, 8);
        WriteRaw(engine.DatabasePath, "default", dataKey, [7, 1, 2, 3]);

        DurableStorageEngine reopened = Open(FsyncPolicy.Always);

        Assert.Throws<InvalidDataException>(() => reopened.TryRead(key, Now, out _));
    }

    protected override DurableStorageEngine Create(string directory, KeyPartitioner partitioner, FsyncPolicy policy, long recordCacheBytes) =>
        new RocksDbStorageEngine(directory, partitioner, policy, recordCacheBytes: recordCacheBytes);

    /// <summary>The files as written so far; the acknowledged writes are only in the WAL.</summary>
    protected override void CopyCrashImage(DurableStorageEngine engine, string imageDatabase)
    {
        Directory.CreateDirectory(imageDatabase);
        Assert.Empty(Directory.GetFiles(engine.DatabasePath, "*.sst"));
        foreach (string file in Directory.GetFiles(engine.DatabasePath))
        {
            if (Path.GetFileName(file) != "LOCK")
            {
                File.Copy(file, Path.Combine(imageDatabase, Path.GetFileName(file)));
            }
        }
    }

    protected override void AssertCreated(DurableStorageEngine engine) =>
        Assert.True(File.Exists(Path.Combine(engine.DatabasePath, "CURRENT")));

    /// <summary>Writes one key straight into a closed engine's database, as damage or a newer version would leave it.</summary>
    private static void WriteRaw(string databasePath, string family, byte[] key, byte[] value)
    {
        using RocksDbSharp.RocksDb db = OpenRaw(databasePath);
        db.Put(key, value, db.GetColumnFamily(family));
    }

    /// <summary>A closed engine's database, opened with every column family it has.</summary>
    private static RocksDbSharp.RocksDb OpenRaw(string databasePath)
    {
        var families = new ColumnFamilies();
        families.Add("expiry", new ColumnFamilyOptions());
        families.Add("meta", new ColumnFamilyOptions());
        families.Add("elements", new ColumnFamilyOptions());
        families.Add("index", new ColumnFamilyOptions());
        return RocksDbSharp.RocksDb.Open(new DbOptions(), databasePath, families);
    }
}
