using System.Buffers.Binary;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Lmdb;
using LightningDB;
using Microsoft.Extensions.Time.Testing;

namespace Dynamite.Storage.Tests;

/// <summary>
/// Runs the storage contract against the LMDB engine, plus what only a durable, group-committing engine has: data,
/// counters and the expiry index surviving a restart or a crash, group commit, draining on dispose, the batch policy's
/// sync thread, keys longer than LMDB's key limit, a full map, and format versioning. Each test gets a fresh temporary
/// data directory, deleted afterwards.
/// </summary>
public sealed class LmdbStorageEngineTests : StorageEngineContractTests
{
    /// <summary>The batch policy's sync interval.</summary>
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
        LmdbStorageEngine first = Open(policy);
        await Put(first, "plain", "1");
        await Put(first, "expiring", "2", expiresAt: Now + 1000);
        await Put(first, "deleted", "3");
        await Remove(first, "deleted");
        await first.DisposeAsync();

        LmdbStorageEngine second = Open(policy);
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
        LmdbStorageEngine engine = Open(policy);
        for (int i = 0; i < 20; i++)
        {
            await Put(engine, $"k{i}", $"v{i}", expiresAt: i % 2 == 0 ? 0 : Now + 1000);
        }

        // What kill -9 leaves behind: the data file as the operating system has it (no flush, no close, no sync under
        // batch and never), copied while the engine still runs.
        string image = Path.Combine(_directory, "crash-image");
        string imageDatabase = Path.Combine(image, LmdbStorageEngine.DirectoryName);
        Directory.CreateDirectory(imageDatabase);
        File.Copy(Path.Combine(engine.DatabasePath, "data.mdb"), Path.Combine(imageDatabase, "data.mdb"));

        LmdbStorageEngine recovered = Open(policy, image);

        for (int i = 0; i < 20; i++)
        {
            Assert.Equal($"v{i}", Get(recovered, $"k{i}"));
        }

        AssertCounts(recovered, keys: 20, withExpiry: 10);
        Assert.Equal(10, await recovered.RemoveExpiredAsync(Now + 1000, 100));
    }

    [Fact]
    public async Task LongKeys_BeyondLmdbKeyLimit_RoundTripScanSweepAndSurviveReopen()
    {
        var partitioner = new KeyPartitioner(4);
        LmdbStorageEngine first = Track(new LmdbStorageEngine(_directory, partitioner, FsyncPolicy.Always));

        // 480 bytes is the longest key stored inline; 481 and longer take the long form (LMDB keys stop at 511).
        byte[][] keys = [LongKey(480, 'a'), LongKey(481, 'b'), LongKey(600, 'c'), LongKey(100_000, 'd'), LongKey(600, 'e')];
        await first.ExecuteAsync(
            new DelegateOperation(t =>
            {
                for (int i = 0; i < keys.Length; i++)
                {
                    t.Write(keys[i], new StoredRecord(Key($"v{i}"), i == 2 ? Now + 1000 : 0));
                }
            }),
            Now);

        // Keys sharing a long prefix stay apart: the long form ends with the key's digest.
        byte[] sameStart = (byte[])keys[2].Clone();
        sameStart[^1] = (byte)'z';
        Assert.False(first.TryRead(sameStart, Now, out _));
        for (int i = 0; i < keys.Length; i++)
        {
            Assert.True(first.TryRead(keys[i], Now, out StoredRecord record));
            Assert.Equal($"v{i}", Text(record.Value));
        }

        AssertCounts(first, keys: 5, withExpiry: 1);
        await first.DisposeAsync();

        LmdbStorageEngine second = Track(new LmdbStorageEngine(_directory, partitioner, FsyncPolicy.Always));
        Assert.Equal(
            keys.Select(Convert.ToBase64String).Order(StringComparer.Ordinal),
            second.Scan(0, 100, Now).Keys.Select(Convert.ToBase64String).Order(StringComparer.Ordinal));
        List<StoredEntry> entries = Enumerable.Range(0, partitioner.PartitionCount)
            .SelectMany(p => second.ReadPartition(new PartitionId(p), Now))
            .ToList();
        Assert.Equal(keys.Length, entries.Count);
        Assert.All(entries, e => Assert.Equal($"v{Array.FindIndex(keys, k => k.AsSpan().SequenceEqual(e.Key))}", Text(e.Record.Value)));

        Assert.Equal(1, await second.RemoveExpiredAsync(Now + 1000, 100));
        Assert.False(second.TryRead(keys[2], Now, out _));
        await second.ExecuteAsync(new DelegateOperation(t => t.Delete(keys[3])), Now);
        Assert.False(second.TryRead(keys[3], Now, out _));
        AssertCounts(second, keys: 3, withExpiry: 0);
    }

    [Fact]
    public async Task MapFull_WriteThatDoesNotFit_FailsWholeAndLeavesEngineUsable()
    {
        LmdbStorageEngine engine = Track(new LmdbStorageEngine(_directory, new KeyPartitioner(8), FsyncPolicy.Never, mapSizeBytes: 1L << 20));
        await Put(engine, "small", "1");
        await engine.ExecuteAsync(new DelegateOperation(t => t.Write(Key("filler"), new StoredRecord(new byte[600_000], 0))), Now);

        // One operation writes a small key and a value larger than what is left: neither is applied.
        var thrown = await Assert.ThrowsAsync<LmdbMapFullException>(async () => await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.Write(Key("first"), new StoredRecord(Key("x"), 0));
                t.Write(Key("too-big"), new StoredRecord(new byte[600_000], 0));
                t.Delete(Key("small"));
            }),
            Now));

        Assert.Contains("is full", thrown.Message, StringComparison.Ordinal);
        Assert.Contains(engine.DatabasePath, thrown.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', thrown.Message);
        Assert.Null(Get(engine, "first"));
        Assert.Null(Get(engine, "too-big"));
        Assert.Equal("1", Get(engine, "small"));
        AssertCounts(engine, keys: 2, withExpiry: 0);

        // Deleting frees pages, and then the write fits (LMDB reuses pages freed by one transaction from the one after
        // next on, as the one right after it may still be read from the previous snapshot).
        await Remove(engine, "filler");
        await Put(engine, "another", "commit");
        await engine.ExecuteAsync(new DelegateOperation(t => t.Write(Key("too-big"), new StoredRecord(new byte[600_000], 0))), Now);
        Assert.True(engine.TryRead(Key("too-big"), Now, out StoredRecord big));
        Assert.Equal(600_000, big.Value.Length);
        AssertCounts(engine, keys: 3, withExpiry: 0);
    }

    [Fact]
    public async Task ClearAsync_ThenReopen_StaysEmpty()
    {
        LmdbStorageEngine first = Open(FsyncPolicy.Always);
        await PutMany(first, 100, "k");
        await PutMany(first, 10, "e", expiresAt: Now + 1000);
        await first.FlushAsync();
        await first.ClearAsync();
        await first.DisposeAsync();

        LmdbStorageEngine second = Open(FsyncPolicy.Always);

        AssertCounts(second, keys: 0, withExpiry: 0);
        Assert.Empty(second.Scan(0, 1000, Now).Keys);
        Assert.Equal(0, await second.RemoveExpiredAsync(Now + 2000, 100));
    }

    [Fact]
    public void Open_DirectoryAlreadyOpen_Throws()
    {
        LmdbStorageEngine first = Open(FsyncPolicy.Always);

        var thrown = Assert.Throws<IOException>(() => new LmdbStorageEngine(_directory, new KeyPartitioner(8), FsyncPolicy.Always));

        Assert.Contains(first.DatabasePath, thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_TwoHundredConcurrentCalls_AllCompleteAndPersist()
    {
        LmdbStorageEngine engine = Open(FsyncPolicy.Always);

        Task[] writes = Enumerable.Range(0, 200)
            .Select(i => Task.Run(async () => await Put(engine, $"k{i}", $"v{i}")))
            .ToArray();
        await Task.WhenAll(writes);

        AssertCounts(engine, keys: 200, withExpiry: 0);
        Assert.InRange(engine.CommitCount, 1, 200);
        await engine.DisposeAsync();
        LmdbStorageEngine reopened = Open(FsyncPolicy.Always);
        AssertCounts(reopened, keys: 200, withExpiry: 0);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal($"v{i}", Get(reopened, $"k{i}"));
        }
    }

    [Fact]
    public async Task TryRead_ManyThreadsWhileWriting_SeeOnlyCommittedValues()
    {
        LmdbStorageEngine engine = Open(FsyncPolicy.Never);
        await PutMany(engine, 100, "k");
        using var stop = new CancellationTokenSource();

        // Readers hop threads between reads (MDB_NOTLS), and outnumber the pool's idle transactions.
        Task[] readers = Enumerable.Range(0, 64).Select(r => Task.Run(async () =>
        {
            int reads = 0;
            while (!stop.IsCancellationRequested || reads < 200)
            {
                string? value = Get(engine, $"k-{(r + reads) % 100}");
                Assert.True(value is not null && (value.StartsWith("value-k-", StringComparison.Ordinal) || value.StartsWith("new-", StringComparison.Ordinal)), value);
                reads++;
                await Task.Yield();
            }
        })).ToArray();
        for (int i = 0; i < 300; i++)
        {
            await Put(engine, $"k-{i % 100}", $"new-{i}");
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        AssertCounts(engine, keys: 100, withExpiry: 0);
    }

    [Fact]
    public async Task ExecuteAsync_OperationsQueuedWhileWriterBusy_CommitAsOneGroupInOrder()
    {
        LmdbStorageEngine engine = Open(FsyncPolicy.Always);
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

        // Nothing is acknowledged before its transaction is committed.
        Assert.All(increments, t => Assert.False(t.IsCompleted));
        gate.Release();
        await gated;
        await Task.WhenAll(increments);
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => failing!);

        // Each increment saw the staged result of the one before it in the group; the failed write vanished.
        Assert.Equal("fails alone", thrown.Message);
        Assert.Equal("199", Get(engine, "counter"));
        AssertCounts(engine, keys: 1, withExpiry: 0);

        // The gate's round changed nothing, so it committed nothing; the 200 operations behind it were one transaction.
        Assert.Equal(commitsBefore + 1, engine.CommitCount);
    }

    [Fact]
    public async Task TryRead_WhileWriterRunsAnOperation_ReturnsCommittedValueWithoutWaiting()
    {
        LmdbStorageEngine engine = Open(FsyncPolicy.Always);
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
        LmdbStorageEngine engine = Open(FsyncPolicy.Always);
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
        LmdbStorageEngine engine = Open(FsyncPolicy.Always);
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
        LmdbStorageEngine engine = Open(FsyncPolicy.Always);
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
        LmdbStorageEngine reopened = Open(FsyncPolicy.Always);
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
        LmdbStorageEngine engine = Open(policy);
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
    public async Task BatchPolicy_OneIntervalAfterAWrite_SyncsOnceAndNotWhenIdle()
    {
        var clock = new FakeTimeProvider();
        LmdbStorageEngine engine = Track(new LmdbStorageEngine(_directory, new KeyPartitioner(8), FsyncPolicy.Batch, clock: clock));
        await Put(engine, "a", "1");

        // The sync thread waits an interval of the clock after a commit, never on its own.
        await Task.Delay(200);
        Assert.Equal(0, engine.SyncCount);
        clock.Advance(SyncInterval);
        Assert.True(await WaitUntilAsync(() => engine.SyncCount == 1, TimeSpan.FromSeconds(10)), "no sync after an interval");

        // Nothing written since: further intervals sync nothing.
        clock.Advance(SyncInterval);
        await Task.Delay(200);
        Assert.Equal(1, engine.SyncCount);

        // "b" is written after that sync: one more interval syncs it.
        await Put(engine, "b", "2");
        clock.Advance(SyncInterval);
        Assert.True(await WaitUntilAsync(() => engine.SyncCount == 2, TimeSpan.FromSeconds(10)), "no sync for the second write");
        Assert.Equal("2", Get(engine, "b"));
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Never)]
    public async Task OtherPolicies_IntervalsPass_NoPeriodicSync(FsyncPolicy policy)
    {
        var clock = new FakeTimeProvider();
        LmdbStorageEngine engine = Track(new LmdbStorageEngine(_directory, new KeyPartitioner(8), policy, clock: clock));
        await Put(engine, "a", "1");

        clock.Advance(SyncInterval * 3);
        await Task.Delay(200);

        Assert.Equal(0, engine.SyncCount);
    }

    [Fact]
    public async Task Constructor_DatabaseFromNewerFormatVersion_ThrowsNotSupported()
    {
        LmdbStorageEngine engine = Open(FsyncPolicy.Always);
        await Put(engine, "a", "1");
        await engine.DisposeAsync();
        WriteRaw(engine.DatabasePath, "meta", "format-version"u8.ToArray(), BitConverter.GetBytes(2));

        var thrown = Assert.Throws<NotSupportedException>(() => new LmdbStorageEngine(_directory, new KeyPartitioner(8), FsyncPolicy.Always));

        Assert.Contains("format version 2", thrown.Message, StringComparison.Ordinal);
        Assert.Contains(engine.DatabasePath, thrown.Message, StringComparison.Ordinal);

        // Refused without taking the directory: after the fix (here, the old version back) it opens again.
        WriteRaw(engine.DatabasePath, "meta", "format-version"u8.ToArray(), BitConverter.GetBytes(1));
        Assert.Equal("1", Get(Open(FsyncPolicy.Always), "a"));
    }

    [Fact]
    public async Task TryRead_RecordWithUnknownHeader_ThrowsRatherThanMisreading()
    {
        LmdbStorageEngine engine = Open(FsyncPolicy.Always);
        await engine.DisposeAsync();
        byte[] key = Key("future");
        byte[] dataKey = new byte[8 + key.Length];
        BinaryPrimitives.WriteUInt64BigEndian(dataKey, KeyPartitioner.HashKey(key));
        key.CopyTo(dataKey, 8);
        WriteRaw(engine.DatabasePath, "data", dataKey, [7, 1, 2, 3]);

        LmdbStorageEngine reopened = Open(FsyncPolicy.Always);

        Assert.Throws<InvalidDataException>(() => reopened.TryRead(key, Now, out _));
    }

    [Fact]
    public async Task Constructor_NewDirectory_CreatesDatabaseDirectory()
    {
        string nested = Path.Combine(_directory, "does", "not", "exist");

        LmdbStorageEngine engine = Open(FsyncPolicy.Never, nested);
        await engine.DisposeAsync();

        Assert.Equal(Path.Combine(Path.GetFullPath(nested), LmdbStorageEngine.DirectoryName), engine.DatabasePath);
        Assert.True(File.Exists(Path.Combine(engine.DatabasePath, "data.mdb")));
        Assert.Equal("lmdb", engine.Name);
    }

    protected override IStorageEngine CreateEngineCore(KeyPartitioner partitioner) =>
        new LmdbStorageEngine(_directory, partitioner, FsyncPolicy.Always);

    private static byte[] LongKey(int length, char fill)
    {
        byte[] key = new byte[length];
        Array.Fill(key, (byte)fill);
        key[^1] = (byte)'!';
        return key;
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
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

    /// <summary>Writes one key straight into a closed engine's environment, as damage or a newer version would leave it.
    /// (An engine was opened in this process first, so LightningDB already calls the system's LMDB.)</summary>
    private static void WriteRaw(string databasePath, string database, byte[] key, byte[] value)
    {
        using var environment = new LightningEnvironment(databasePath, new EnvironmentConfiguration { MaxDatabases = 4, MapSize = 64L << 20 });
        environment.Open(EnvironmentOpenFlags.NoThreadLocalStorage);
        using (LightningTransaction transaction = environment.BeginTransaction())
        {
            using LightningDatabase db = transaction.OpenDatabase(database);
            Assert.Equal(MDBResultCode.Success, transaction.Put(db, key, value));
            Assert.Equal(MDBResultCode.Success, transaction.Commit());
        }
    }

    private LmdbStorageEngine Open(FsyncPolicy policy, string? directory = null) =>
        Track(new LmdbStorageEngine(directory ?? _directory, new KeyPartitioner(8), policy));
}
