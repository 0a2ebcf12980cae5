using System.Buffers.Binary;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.RocksDb;
using Microsoft.Extensions.Time.Testing;
using RocksDbSharp;

namespace Dynamite.Storage.Tests;

/// <summary>
/// Runs the storage contract against the RocksDB engine, plus what only a durable, group-committing engine has:
/// data, counters and the expiry index surviving a restart or a crash, group commit, draining on dispose, the batch
/// policy's WAL sync, and format versioning. Each test gets a fresh temporary data directory, deleted afterwards.
/// </summary>
public sealed class RocksDbStorageEngineTests : StorageEngineContractTests
{
    /// <summary>The batch policy's WAL sync interval.</summary>
    private static readonly TimeSpan SyncInterval = TimeSpan.FromSeconds(1);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dynamite-storage-tests", Guid.NewGuid().ToString("N"));

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            if (Directory.Exists(_directory))
            {
                Directory.Delete(_directory, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    [InlineData(FsyncPolicy.Never)]
    public async Task Reopen_AfterDispose_KeepsDataCountersAndExpiryIndex(FsyncPolicy policy)
    {
        RocksDbStorageEngine first = Open(policy);
        await Put(first, "plain", "1");
        await Put(first, "expiring", "2", expiresAt: Now + 1000);
        await Put(first, "deleted", "3");
        await Remove(first, "deleted");
        await first.DisposeAsync();

        RocksDbStorageEngine second = Open(policy);
        Assert.Equal("1", Get(second, "plain"));
        Assert.True(second.TryRead(Key("expiring"), Now, out StoredRecord expiring));
        Assert.Equal(Now + 1000, expiring.ExpiresAtUnixMs);
        Assert.Null(Get(second, "deleted"));
        AssertCounts(second, keys: 2, withExpiry: 1);

        // The expiry index came back too: the sweep finds the expiring key without a scan.
        Assert.Equal(1, await second.RemoveExpiredAsync(Now + 1000, 100));
        AssertCounts(second, keys: 1, withExpiry: 0);
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    [InlineData(FsyncPolicy.Never)]
    public async Task Open_CrashImageTakenAfterAcknowledgement_RecoversAcknowledgedWrites(FsyncPolicy policy)
    {
        RocksDbStorageEngine engine = Open(policy);
        for (int i = 0; i < 20; i++)
        {
            await Put(engine, $"k{i}", $"v{i}", expiresAt: i % 2 == 0 ? 0 : Now + 1000);
        }

        // What kill -9 leaves behind: the files as written so far (no flush, no close), copied while the engine
        // still runs; the acknowledged writes are only in the WAL.
        string image = Path.Combine(_directory, "crash-image");
        string imageDatabase = Path.Combine(image, RocksDbStorageEngine.DirectoryName);
        Directory.CreateDirectory(imageDatabase);
        Assert.Empty(Directory.GetFiles(engine.DatabasePath, "*.sst"));
        foreach (string file in Directory.GetFiles(engine.DatabasePath))
        {
            if (Path.GetFileName(file) != "LOCK")
            {
                File.Copy(file, Path.Combine(imageDatabase, Path.GetFileName(file)));
            }
        }

        RocksDbStorageEngine recovered = Open(policy, image);

        for (int i = 0; i < 20; i++)
        {
            Assert.Equal($"v{i}", Get(recovered, $"k{i}"));
        }

        AssertCounts(recovered, keys: 20, withExpiry: 10);
        Assert.Equal(10, await recovered.RemoveExpiredAsync(Now + 1000, 100));
    }

    [Fact]
    public async Task Reopen_AfterFlush_ReadsLargeValuesBackFromBlobFiles()
    {
        RocksDbStorageEngine first = Open(FsyncPolicy.Always);
        byte[] large = new byte[64 * 1024];
        new Random(7).NextBytes(large);
        await first.ExecuteAsync(new DelegateOperation(t => t.Write(Key("large"), new StoredRecord((byte[])large.Clone(), Now + 5000))), Now);
        await Put(first, "small", "s");
        await first.FlushAsync();

        // Values of 4 KiB and more are kept out of the LSM tree, in blob files.
        Assert.NotEmpty(Directory.GetFiles(first.DatabasePath, "*.blob"));
        await first.DisposeAsync();

        RocksDbStorageEngine second = Open(FsyncPolicy.Always);
        Assert.True(second.TryRead(Key("large"), Now, out StoredRecord record));
        Assert.Equal(large, record.Value);
        Assert.Equal(Now + 5000, record.ExpiresAtUnixMs);
        Assert.Equal("s", Get(second, "small"));
        AssertCounts(second, keys: 2, withExpiry: 1);
    }

    [Fact]
    public async Task ClearAsync_ThenReopen_StaysEmpty()
    {
        RocksDbStorageEngine first = Open(FsyncPolicy.Always);
        await PutMany(first, 100, "k");
        await PutMany(first, 10, "e", expiresAt: Now + 1000);
        await first.FlushAsync();
        await first.ClearAsync();
        await first.DisposeAsync();

        RocksDbStorageEngine second = Open(FsyncPolicy.Always);

        AssertCounts(second, keys: 0, withExpiry: 0);
        Assert.Empty(second.Scan(0, 1000, Now).Keys);
        Assert.Equal(0, await second.RemoveExpiredAsync(Now + 2000, 100));
    }

    [Fact]
    public void Open_DirectoryAlreadyOpen_Throws()
    {
        Open(FsyncPolicy.Always);

        Assert.Throws<RocksDbException>(() => new RocksDbStorageEngine(_directory, new KeyPartitioner(8), FsyncPolicy.Always));
    }

    [Fact]
    public async Task ExecuteAsync_TwoHundredConcurrentCalls_AllCompleteAndPersist()
    {
        RocksDbStorageEngine engine = Open(FsyncPolicy.Always);

        Task[] writes = Enumerable.Range(0, 200)
            .Select(i => Task.Run(async () => await Put(engine, $"k{i}", $"v{i}")))
            .ToArray();
        await Task.WhenAll(writes);

        AssertCounts(engine, keys: 200, withExpiry: 0);
        Assert.InRange(engine.CommitCount, 1, 200);
        await engine.DisposeAsync();
        RocksDbStorageEngine reopened = Open(FsyncPolicy.Always);
        AssertCounts(reopened, keys: 200, withExpiry: 0);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal($"v{i}", Get(reopened, $"k{i}"));
        }
    }

    [Fact]
    public async Task ExecuteAsync_OperationsQueuedWhileWriterBusy_CommitAsOneGroupInOrder()
    {
        RocksDbStorageEngine engine = Open(FsyncPolicy.Always);
        using var gate = new WriterGate();
        Task gated = engine.ExecuteAsync(gate.Operation, Now).AsTask();
        gate.WaitUntilEntered();
        long commitsBefore = engine.CommitCount;

        var increments = new List<Task>();
        Task? failing = null;
        for (int i = 0; i < 199; i++)
        {
            increments.Add(engine.ExecuteAsync(Increment("counter"), Now).AsTask());
            if (i == 100)
            {
                failing = engine.ExecuteAsync(
                    new DelegateOperation(t =>
                    {
                        t.Write(Key("counter"), new StoredRecord(Key("-1000"), 0));
                        throw new InvalidOperationException("fails alone");
                    }),
                    Now).AsTask();
            }
        }

        // Nothing is acknowledged before its batch is written.
        Assert.All(increments, t => Assert.False(t.IsCompleted));
        gate.Release();
        await gated;
        await Task.WhenAll(increments);
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => failing!);

        // Each increment saw the staged result of the one before it in the group; the failed write vanished.
        Assert.Equal("fails alone", thrown.Message);
        Assert.Equal("199", Get(engine, "counter"));
        AssertCounts(engine, keys: 1, withExpiry: 0);

        // The gate's round changed nothing, so it wrote nothing; the 200 operations behind it were one batch.
        Assert.Equal(commitsBefore + 1, engine.CommitCount);
    }

    [Fact]
    public async Task TryRead_WhileWriterRunsAnOperation_ReturnsCommittedValueWithoutWaiting()
    {
        RocksDbStorageEngine engine = Open(FsyncPolicy.Always);
        await Put(engine, "a", "committed");
        using var gate = new WriterGate();

        Task gated = engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.Write(Key("a"), new StoredRecord(Key("pending"), 0));
                gate.Block();
            }),
            Now).AsTask();
        gate.WaitUntilEntered();

        Assert.Equal("committed", Get(engine, "a"));
        Assert.Equal(["a"], engine.Scan(0, 10, Now).Keys.Select(Text));
        gate.Release();
        await gated;
        Assert.Equal("pending", Get(engine, "a"));
    }

    [Fact]
    public async Task ExecuteAsync_CancelledWhileQueued_IsNeverRun()
    {
        RocksDbStorageEngine engine = Open(FsyncPolicy.Always);
        using var gate = new WriterGate();
        Task gated = engine.ExecuteAsync(gate.Operation, Now).AsTask();
        gate.WaitUntilEntered();
        using var cancellation = new CancellationTokenSource();
        bool ran = false;

        Task cancelled = engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                ran = true;
                t.Write(Key("cancelled"), new StoredRecord(Key("x"), 0));
            }),
            Now,
            cancellation.Token).AsTask();
        Task after = Put(engine, "after", "1");
        await cancellation.CancelAsync();
        gate.Release();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        await after;
        await gated;
        Assert.False(ran);
        Assert.Null(Get(engine, "cancelled"));
        Assert.Equal("1", Get(engine, "after"));
    }

    [Fact]
    public async Task ExecuteAsync_AfterDispose_ThrowsObjectDisposedException()
    {
        RocksDbStorageEngine engine = Open(FsyncPolicy.Always);
        await Put(engine, "a", "1");

        await engine.DisposeAsync();
        await engine.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Put(engine, "b", "2"));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await engine.FlushAsync());
        Assert.Throws<ObjectDisposedException>(() => engine.TryRead(Key("a"), Now, out _));
        Assert.Throws<ObjectDisposedException>(() => engine.Scan(0, 10, Now));
    }

    [Fact]
    public async Task DisposeAsync_WithQueuedWrites_WritesThemBeforeClosing()
    {
        RocksDbStorageEngine engine = Open(FsyncPolicy.Always);
        using var gate = new WriterGate();
        Task gated = engine.ExecuteAsync(gate.Operation, Now).AsTask();
        gate.WaitUntilEntered();
        List<Task> writes = Enumerable.Range(0, 100).Select(i => Put(engine, $"k{i}", $"v{i}")).ToList();

        ValueTask disposing = engine.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Put(engine, "late", "x"));
        gate.Release();
        await disposing;

        Assert.All(writes, w => Assert.True(w.IsCompletedSuccessfully));
        await gated;
        RocksDbStorageEngine reopened = Open(FsyncPolicy.Always);
        AssertCounts(reopened, keys: 100, withExpiry: 0);
        Assert.Equal("v99", Get(reopened, "k99"));
        Assert.Null(Get(reopened, "late"));
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    [InlineData(FsyncPolicy.Never)]
    public async Task FlushAsync_AfterWrites_FlushesMemtablesIntoTableFiles(FsyncPolicy policy)
    {
        RocksDbStorageEngine engine = Open(policy);
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
        RocksDbStorageEngine engine = Track(new RocksDbStorageEngine(_directory, new KeyPartitioner(8), FsyncPolicy.Batch, clock: clock));
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
    public async Task Constructor_DatabaseFromNewerFormatVersion_ThrowsNotSupported()
    {
        RocksDbStorageEngine engine = Open(FsyncPolicy.Always);
        await Put(engine, "a", "1");
        await engine.DisposeAsync();
        WriteRaw(engine.DatabasePath, "meta", "format-version"u8.ToArray(), BitConverter.GetBytes(2));

        var thrown = Assert.Throws<NotSupportedException>(() => new RocksDbStorageEngine(_directory, new KeyPartitioner(8), FsyncPolicy.Always));

        Assert.Contains("format version 2", thrown.Message, StringComparison.Ordinal);
        Assert.Contains(engine.DatabasePath, thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TryRead_RecordWithUnknownHeader_ThrowsRatherThanMisreading()
    {
        RocksDbStorageEngine engine = Open(FsyncPolicy.Always);
        await engine.DisposeAsync();
        byte[] key = Key("future");
        byte[] dataKey = new byte[8 + key.Length];
        BinaryPrimitives.WriteUInt64BigEndian(dataKey, KeyPartitioner.HashKey(key));
        key.CopyTo(dataKey, 8);
        WriteRaw(engine.DatabasePath, "default", dataKey, [7, 1, 2, 3]);

        RocksDbStorageEngine reopened = Open(FsyncPolicy.Always);

        Assert.Throws<InvalidDataException>(() => reopened.TryRead(key, Now, out _));
    }

    [Fact]
    public async Task Constructor_NewDirectory_CreatesDatabaseDirectory()
    {
        string nested = Path.Combine(_directory, "does", "not", "exist");

        RocksDbStorageEngine engine = Open(FsyncPolicy.Never, nested);
        await engine.DisposeAsync();

        Assert.Equal(Path.Combine(Path.GetFullPath(nested), RocksDbStorageEngine.DirectoryName), engine.DatabasePath);
        Assert.True(File.Exists(Path.Combine(engine.DatabasePath, "CURRENT")));
        Assert.Equal("rocksdb", engine.Name);
    }

    protected override IStorageEngine CreateEngineCore(KeyPartitioner partitioner) =>
        new RocksDbStorageEngine(_directory, partitioner, FsyncPolicy.Always);

    private RocksDbStorageEngine Open(FsyncPolicy policy, string? directory = null) =>
        Track(new RocksDbStorageEngine(directory ?? _directory, new KeyPartitioner(8), policy));

    /// <summary>Writes one key straight into a closed engine's database, as damage or a newer version would leave it.</summary>
    private static void WriteRaw(string databasePath, string family, byte[] key, byte[] value)
    {
        var families = new ColumnFamilies();
        families.Add("expiry", new ColumnFamilyOptions());
        families.Add("meta", new ColumnFamilyOptions());
        using RocksDbSharp.RocksDb db = RocksDbSharp.RocksDb.Open(new DbOptions(), databasePath, families);
        db.Put(key, value, db.GetColumnFamily(family));
    }
}
