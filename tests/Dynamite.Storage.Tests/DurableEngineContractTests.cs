using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Storage.Tests;

/// <summary>
/// The storage contract plus what every durable, group-committing engine (<see cref="DurableStorageEngine"/>) promises,
/// written once: data and counters surviving a restart or a crash, group commit (a throwing operation fails alone),
/// reads that never wait for the writer, cancellation of queued writes, and draining on flush and dispose. Each durable
/// engine's test class derives from this, supplies the engine and how a crash image is taken, and adds what only that
/// engine does. Each test gets a fresh temporary data directory, deleted afterwards.
/// </summary>
public abstract partial class DurableEngineContractTests : StorageEngineContractTests
{
    /// <summary>A fresh data directory for this test.</summary>
    protected string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "dynamite-storage-tests", Guid.NewGuid().ToString("N"));

    /// <summary>The engine's name in the configuration ("rocksdb").</summary>
    protected abstract string EngineName { get; }

    /// <summary>The database's name (file or directory) inside the data directory.</summary>
    protected abstract string DatabaseName { get; }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            if (Directory.Exists(DataDirectory))
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    [InlineData(FsyncPolicy.Never)]
    public async Task Reopen_AfterDispose_KeepsDataCountersAndExpiryIndex(FsyncPolicy policy)
    {
        DurableStorageEngine first = Open(policy);
        await Put(first, "plain", "1");
        await Put(first, "expiring", "2", expiresAt: Now + 1000);
        await Put(first, "deleted", "3");
        await Remove(first, "deleted");
        await first.DisposeAsync();
        AssertClosedCleanly(first);

        DurableStorageEngine second = Open(policy);
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
        DurableStorageEngine engine = Open(policy);
        for (int i = 0; i < 20; i++)
        {
            await Put(engine, $"k{i}", $"v{i}", expiresAt: i % 2 == 0 ? 0 : Now + 1000);
        }

        string image = Path.Combine(DataDirectory, "crash-image");
        CopyCrashImage(engine, Path.Combine(image, DatabaseName));

        DurableStorageEngine recovered = Open(policy, image);

        for (int i = 0; i < 20; i++)
        {
            Assert.Equal($"v{i}", Get(recovered, $"k{i}"));
        }

        AssertCounts(recovered, keys: 20, withExpiry: 10);
        Assert.Equal(10, await recovered.RemoveExpiredAsync(Now + 1000, 100));
    }

    [Fact]
    public async Task ClearAsync_ThenReopen_StaysEmpty()
    {
        DurableStorageEngine first = Open(FsyncPolicy.Always);
        await PutMany(first, 100, "k");
        await PutMany(first, 10, "e", expiresAt: Now + 1000);
        await first.FlushAsync();
        await first.ClearAsync();
        await first.DisposeAsync();

        DurableStorageEngine second = Open(FsyncPolicy.Always);

        AssertCounts(second, keys: 0, withExpiry: 0);
        Assert.Empty(second.Scan(0, 1000, Now).Keys);
        Assert.Equal(0, await second.RemoveExpiredAsync(Now + 2000, 100));
    }

    [Fact]
    public async Task RecordCache_KeyExpiredSweptAndWrittenAgain_KeepsCountersExact()
    {
        DurableStorageEngine engine = OpenWithCache();
        await Put(engine, "k", "old", expiresAt: Now + 10);
        Assert.Equal("old", Get(engine, "k"));
        Assert.Equal(1, await engine.RemoveExpiredAsync(Now + 10, 100));

        // The cache still holds the expired record; the writer must not take it as stored: the sweep removed it.
        await engine.ExecuteAsync(new DelegateOperation(t => t.Write(Key("k"), new StoredRecord(Key("new"), 0))), Now + 20);

        AssertCounts(engine, keys: 1, withExpiry: 0);
        Assert.True(engine.TryRead(Key("k"), Now + 20, out StoredRecord record));
        Assert.Equal("new", Text(record.Value));
    }

    [Fact]
    public async Task RecordCache_CachedKeysDeletedOrCleared_ReadAsAbsent()
    {
        DurableStorageEngine engine = OpenWithCache();
        await Put(engine, "deleted", "1");
        await Put(engine, "cleared", "2");
        Assert.Equal("1", Get(engine, "deleted"));
        Assert.Equal("2", Get(engine, "cleared"));
        Assert.True(engine.Cache.Count >= 2);

        await Remove(engine, "deleted");
        Assert.Null(Get(engine, "deleted"));
        await engine.ClearAsync();

        Assert.Null(Get(engine, "cleared"));
        Assert.Equal(0, engine.Cache.Count);
        AssertCounts(engine, keys: 0, withExpiry: 0);
    }

    [Fact]
    public async Task RecordCache_ReopenedEngine_ReadsWhatTheCacheServedFromTheDatabase()
    {
        DurableStorageEngine first = OpenWithCache();
        await Put(first, "k", "v1");
        await Put(first, "k", "v2");
        Assert.Equal("v2", Get(first, "k"));
        await first.DisposeAsync();

        DurableStorageEngine second = Open(FsyncPolicy.Never);
        Assert.Equal("v2", Get(second, "k"));
    }

    [Fact]
    public async Task ExecuteAsync_TwoHundredConcurrentCalls_AllCompleteAndPersist()
    {
        DurableStorageEngine engine = Open(FsyncPolicy.Always);

        Task[] writes = Enumerable.Range(0, 200)
            .Select(i => Task.Run(async () => await Put(engine, $"k{i}", $"v{i}")))
            .ToArray();
        await Task.WhenAll(writes);

        AssertCounts(engine, keys: 200, withExpiry: 0);
        Assert.InRange(engine.CommitCount, 1, 200);
        await engine.DisposeAsync();
        DurableStorageEngine reopened = Open(FsyncPolicy.Always);
        AssertCounts(reopened, keys: 200, withExpiry: 0);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal($"v{i}", Get(reopened, $"k{i}"));
        }
    }

    [Fact]
    public async Task ExecuteAsync_OperationsQueuedWhileWriterBusy_CommitAsOneGroupInOrder()
    {
        DurableStorageEngine engine = Open(FsyncPolicy.Always);
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

        // Nothing is acknowledged before its group is committed.
        Assert.All(increments, t => Assert.False(t.IsCompleted));
        gate.Release();
        await gated;
        await Task.WhenAll(increments);
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => failing!);

        // Each increment saw the staged result of the one before it in the group; the failed write vanished.
        Assert.Equal("fails alone", thrown.Message);
        Assert.Equal("199", Get(engine, "counter"));
        AssertCounts(engine, keys: 1, withExpiry: 0);

        // The gate's round changed nothing, so it committed nothing; the 200 operations behind it were one commit.
        Assert.Equal(commitsBefore + 1, engine.CommitCount);
    }

    [Fact]
    public async Task TryRead_WhileWriterRunsAnOperation_ReturnsCommittedValueWithoutWaiting()
    {
        DurableStorageEngine engine = Open(FsyncPolicy.Always);
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
        Assert.Single(Enumerable.Range(0, engine.Partitioner.PartitionCount).SelectMany(p => engine.ReadPartition(new PartitionId(p), Now)));
        gate.Release();
        await gated;
        Assert.Equal("pending", Get(engine, "a"));
    }

    [Fact]
    public async Task ExecuteAsync_CancelledWhileQueued_IsNeverRun()
    {
        DurableStorageEngine engine = Open(FsyncPolicy.Always);
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
        DurableStorageEngine engine = Open(FsyncPolicy.Always);
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
        DurableStorageEngine engine = Open(FsyncPolicy.Always);
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
        DurableStorageEngine reopened = Open(FsyncPolicy.Always);
        AssertCounts(reopened, keys: 100, withExpiry: 0);
        Assert.Equal("v99", Get(reopened, "k99"));
        Assert.Null(Get(reopened, "late"));
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    [InlineData(FsyncPolicy.Never)]
    public async Task FlushAsync_WithQueuedWrites_CompletesAfterThem(FsyncPolicy policy)
    {
        DurableStorageEngine engine = Open(policy);
        using var gate = new WriterGate();
        Task gated = engine.ExecuteAsync(gate.Operation, Now).AsTask();
        gate.WaitUntilEntered();
        List<Task> writes = Enumerable.Range(0, 50).Select(i => Put(engine, $"k{i}", $"v{i}")).ToList();

        Task flushed = engine.FlushAsync().AsTask();
        Assert.False(flushed.IsCompleted);
        gate.Release();
        await flushed;

        Assert.All(writes, w => Assert.True(w.IsCompletedSuccessfully));
        Assert.Equal("v7", Get(engine, "k7"));
        await Put(engine, "after-flush", "1");
        Assert.Equal("1", Get(engine, "after-flush"));
        AssertCounts(engine, keys: 51, withExpiry: 0);
        await gated;
    }

    [Fact]
    public async Task Constructor_NewDirectory_CreatesDatabase()
    {
        string nested = Path.Combine(DataDirectory, "does", "not", "exist");

        DurableStorageEngine engine = Open(FsyncPolicy.Never, nested);
        await engine.DisposeAsync();

        Assert.Equal(Path.Combine(Path.GetFullPath(nested), DatabaseName), engine.DatabasePath);
        AssertCreated(engine);
        Assert.Equal(EngineName, engine.Name);
    }

    protected sealed override IStorageEngine CreateEngineCore(KeyPartitioner partitioner) =>
        Create(DataDirectory, partitioner, FsyncPolicy.Always, RecordCacheBytes);

    /// <summary>A new engine on <paramref name="directory"/> (not tracked: <see cref="Open"/> tracks it).</summary>
    protected abstract DurableStorageEngine Create(string directory, KeyPartitioner partitioner, FsyncPolicy policy, long recordCacheBytes);

    /// <summary>
    /// The record cache the contract runs with. None by default, so every read in the contract reaches the database;
    /// <see cref="RocksDbWithRecordCacheTests"/> runs the RocksDB contract again through a small cache.
    /// </summary>
    protected virtual long RecordCacheBytes => 0;

    /// <summary>
    /// Copies what kill -9 would leave of <paramref name="engine"/>'s database (the files as written so far: no flush,
    /// no close, no sync) to <paramref name="imageDatabase"/>, the database's place in another data directory, while
    /// the engine still runs.
    /// </summary>
    protected abstract void CopyCrashImage(DurableStorageEngine engine, string imageDatabase);

    /// <summary>Checks what a clean shutdown left on disk; by default nothing beyond the reopen.</summary>
    protected virtual void AssertClosedCleanly(DurableStorageEngine engine)
    {
    }

    /// <summary>Checks that a new engine created its database.</summary>
    protected abstract void AssertCreated(DurableStorageEngine engine);

    /// <summary>Opens a tracked engine on this test's data directory (or <paramref name="directory"/>) with Q = 8.</summary>
    protected DurableStorageEngine Open(FsyncPolicy policy, string? directory = null) =>
        Track(Create(directory ?? DataDirectory, new KeyPartitioner(8), policy, RecordCacheBytes));

    private DurableStorageEngine OpenWithCache() => Track(Create(DataDirectory, new KeyPartitioner(8), FsyncPolicy.Never, 1 << 20));

    protected static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }
}
