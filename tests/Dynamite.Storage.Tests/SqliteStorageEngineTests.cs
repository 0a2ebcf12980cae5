using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Dynamite.Storage.Tests;

/// <summary>
/// Runs the storage contract against the SQLite engine, plus what only a durable, group-committing engine has:
/// data surviving a restart or a crash, group commit, draining on dispose, and schema versioning.
/// Each test gets a fresh temporary data directory, deleted afterwards.
/// </summary>
public sealed class SqliteStorageEngineTests : StorageEngineContractTests
{
    private const string DatabaseFileName = "dynamite.db";

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
    public async Task Reopen_AfterDispose_KeepsDataAndCounters(FsyncPolicy policy)
    {
        SqliteStorageEngine first = Open(policy);
        await Put(first, "plain", "1");
        await Put(first, "expiring", "2", expiresAt: Now + 1000);
        await Put(first, "deleted", "3");
        await Remove(first, "deleted");
        await first.DisposeAsync();

        // A clean shutdown checkpointed everything into the database file.
        Assert.True(!File.Exists(first.DatabasePath + "-wal") || new FileInfo(first.DatabasePath + "-wal").Length == 0);

        SqliteStorageEngine second = Open(policy);
        Assert.Equal("1", Get(second, "plain"));
        Assert.True(second.TryRead(Key("expiring"), Now, out StoredRecord expiring));
        Assert.Equal(Now + 1000, expiring.ExpiresAtUnixMs);
        Assert.Null(Get(second, "deleted"));
        AssertCounts(second, keys: 2, withExpiry: 1);
    }

    [Fact]
    public async Task Reopen_WhileFirstInstanceAbandoned_SeesAcknowledgedWrites()
    {
        SqliteStorageEngine first = Open(FsyncPolicy.Always);
        await Put(first, "a", "acknowledged");

        // No DisposeAsync, no flush: the first instance is left as it is (the test disposes it at the end).
        SqliteStorageEngine second = Open(FsyncPolicy.Always);

        Assert.Equal("acknowledged", Get(second, "a"));
        AssertCounts(second, keys: 1, withExpiry: 0);
        await Put(second, "b", "written by the second instance");
        Assert.Equal("written by the second instance", Get(first, "b"));
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    [InlineData(FsyncPolicy.Never)]
    public async Task Open_CrashImageTakenAfterAcknowledgement_RecoversAcknowledgedWrites(FsyncPolicy policy)
    {
        SqliteStorageEngine engine = Open(policy);
        for (int i = 0; i < 20; i++)
        {
            await Put(engine, $"k{i}", $"v{i}", expiresAt: i % 2 == 0 ? 0 : Now + 1000);
        }

        // What kill -9 leaves behind: the database and WAL files as written so far (no checkpoint, no close,
        // no shared-memory index), copied while the engine still runs.
        string image = Path.Combine(_directory, "crash-image");
        Directory.CreateDirectory(image);
        string wal = engine.DatabasePath + "-wal";
        Assert.True(new FileInfo(wal).Length > 0, "the acknowledged writes should still be in the WAL");
        File.Copy(engine.DatabasePath, Path.Combine(image, DatabaseFileName));
        File.Copy(wal, Path.Combine(image, DatabaseFileName + "-wal"));

        SqliteStorageEngine recovered = Open(policy, image);

        for (int i = 0; i < 20; i++)
        {
            Assert.Equal($"v{i}", Get(recovered, $"k{i}"));
        }

        AssertCounts(recovered, keys: 20, withExpiry: 10);
    }

    [Fact]
    public async Task ExecuteAsync_TwoHundredConcurrentCalls_AllCompleteAndPersist()
    {
        SqliteStorageEngine engine = Open(FsyncPolicy.Always);

        Task[] writes = Enumerable.Range(0, 200)
            .Select(i => Task.Run(async () => await Put(engine, $"k{i}", $"v{i}")))
            .ToArray();
        await Task.WhenAll(writes);

        AssertCounts(engine, keys: 200, withExpiry: 0);
        Assert.InRange(engine.CommitCount, 1, 200);
        await engine.DisposeAsync();
        SqliteStorageEngine reopened = Open(FsyncPolicy.Always);
        AssertCounts(reopened, keys: 200, withExpiry: 0);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal($"v{i}", Get(reopened, $"k{i}"));
        }
    }

    [Fact]
    public async Task ExecuteAsync_OperationsQueuedWhileWriterBusy_CommitAsOneGroupInOrder()
    {
        SqliteStorageEngine engine = Open(FsyncPolicy.Always);
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

        // Nothing is acknowledged before its commit.
        Assert.All(increments, t => Assert.False(t.IsCompleted));
        gate.Release();
        await gated;
        await Task.WhenAll(increments);
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => failing!);

        // Each increment saw the staged result of the one before it in the group; the failed write vanished.
        Assert.Equal("fails alone", thrown.Message);
        Assert.Equal("199", Get(engine, "counter"));

        // The gate's round changed nothing, so it committed nothing; the 200 operations behind it were one commit.
        Assert.Equal(commitsBefore + 1, engine.CommitCount);
    }

    [Fact]
    public async Task TryRead_WhileWriterHoldsItsTransaction_ReturnsCommittedValueWithoutWaiting()
    {
        SqliteStorageEngine engine = Open(FsyncPolicy.Always);
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
        SqliteStorageEngine engine = Open(FsyncPolicy.Always);
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
        SqliteStorageEngine engine = Open(FsyncPolicy.Always);
        await Put(engine, "a", "1");

        await engine.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Put(engine, "b", "2"));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await engine.FlushAsync());
        Assert.Throws<ObjectDisposedException>(() => engine.TryRead(Key("a"), Now, out _));
    }

    [Fact]
    public async Task DisposeAsync_WithQueuedWrites_CommitsThemBeforeClosing()
    {
        SqliteStorageEngine engine = Open(FsyncPolicy.Always);
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
        SqliteStorageEngine reopened = Open(FsyncPolicy.Always);
        AssertCounts(reopened, keys: 100, withExpiry: 0);
        Assert.Equal("v99", Get(reopened, "k99"));
        Assert.Null(Get(reopened, "late"));
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    [InlineData(FsyncPolicy.Never)]
    public async Task FlushAsync_AfterWrites_CheckpointsWalIntoDatabaseFile(FsyncPolicy policy)
    {
        SqliteStorageEngine engine = Open(policy);
        await PutMany(engine, 50, "k");
        string wal = engine.DatabasePath + "-wal";
        Assert.True(new FileInfo(wal).Length > 0);

        await engine.FlushAsync();

        Assert.Equal(0, new FileInfo(wal).Length);
        Assert.Equal("value-k-7", Get(engine, "k-7"));
        await Put(engine, "after-flush", "1");
        Assert.Equal("1", Get(engine, "after-flush"));
        AssertCounts(engine, keys: 51, withExpiry: 0);
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    [InlineData(FsyncPolicy.Never)]
    public async Task Checkpointer_AnIntervalAfterACommit_CopiesTheWalIntoTheDatabaseFile(FsyncPolicy policy)
    {
        var clock = new FakeTimeProvider();
        SqliteStorageEngine engine = Track(new SqliteStorageEngine(_directory, new KeyPartitioner(8), policy, clock: clock));
        await PutMany(engine, 200, "k");
        long before = new FileInfo(engine.DatabasePath).Length;

        // SQLite's own automatic checkpoint is off, and the checkpointer waits an interval of the clock.
        await Task.Delay(200);
        Assert.Equal(before, new FileInfo(engine.DatabasePath).Length);
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.True(
            await WaitUntilAsync(() => new FileInfo(engine.DatabasePath).Length > before, TimeSpan.FromSeconds(10)),
            $"the database file stayed at {before} bytes");
        Assert.Equal("value-k-7", Get(engine, "k-7"));
        AssertCounts(engine, keys: 200, withExpiry: 0);
    }

    [Fact]
    public async Task Constructor_DatabaseFromNewerSchemaVersion_ThrowsNotSupportedAndLeavesItUnchanged()
    {
        SqliteStorageEngine engine = Open(FsyncPolicy.Always);
        await Put(engine, "a", "1");
        await engine.DisposeAsync();
        SetUserVersion(engine.DatabasePath, 2);

        var thrown = Assert.Throws<NotSupportedException>(() => new SqliteStorageEngine(_directory, new KeyPartitioner(8), FsyncPolicy.Always));

        Assert.Contains("schema version 2", thrown.Message, StringComparison.Ordinal);
        Assert.Contains(engine.DatabasePath, thrown.Message, StringComparison.Ordinal);
        Assert.Equal(2, GetUserVersion(engine.DatabasePath));
    }

    [Fact]
    public async Task Constructor_NewDirectory_CreatesItAndStampsSchemaVersion()
    {
        string nested = Path.Combine(_directory, "does", "not", "exist");

        SqliteStorageEngine engine = Open(FsyncPolicy.Never, nested);
        await engine.DisposeAsync();

        Assert.Equal(Path.Combine(Path.GetFullPath(nested), DatabaseFileName), engine.DatabasePath);
        Assert.Equal(1, GetUserVersion(engine.DatabasePath));
        Assert.Equal("sqlite", engine.Name);
    }

    protected override IStorageEngine CreateEngineCore(KeyPartitioner partitioner) =>
        new SqliteStorageEngine(_directory, partitioner, FsyncPolicy.Always);

    private SqliteStorageEngine Open(FsyncPolicy policy, string? directory = null) =>
        Track(new SqliteStorageEngine(directory ?? _directory, new KeyPartitioner(8), policy));

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

    private static void SetUserVersion(string databasePath, int version)
    {
        using SqliteConnection connection = OpenRaw(databasePath);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"PRAGMA user_version = {version};";
        command.ExecuteNonQuery();
    }

    private static long GetUserVersion(string databasePath)
    {
        using SqliteConnection connection = OpenRaw(databasePath);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        return (long)command.ExecuteScalar()!;
    }

    private static SqliteConnection OpenRaw(string databasePath)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }
}
