using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Dynamite.Storage.Tests;

/// <summary>
/// Runs the durable engine contract against the SQLite engine, plus what only SQLite does: a second instance on the
/// same file, the WAL checkpointed by flush, shutdown and its own thread, and schema versioning.
/// </summary>
public sealed class SqliteStorageEngineTests : DurableEngineContractTests
{
    private const string DatabaseFileName = "dynamite.db";

    protected override string EngineName => "sqlite";

    protected override string DatabaseName => DatabaseFileName;

    [Fact]
    public async Task Reopen_WhileFirstInstanceAbandoned_SeesAcknowledgedWrites()
    {
        DurableStorageEngine first = Open(FsyncPolicy.Always);
        await Put(first, "a", "acknowledged");

        // No DisposeAsync, no flush: the first instance is left as it is (the test disposes it at the end).
        DurableStorageEngine second = Open(FsyncPolicy.Always);

        Assert.Equal("acknowledged", Get(second, "a"));
        AssertCounts(second, keys: 1, withExpiry: 0);
        await Put(second, "b", "written by the second instance");
        Assert.Equal("written by the second instance", Get(first, "b"));
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    [InlineData(FsyncPolicy.Never)]
    public async Task FlushAsync_AfterWrites_CheckpointsWalIntoDatabaseFile(FsyncPolicy policy)
    {
        DurableStorageEngine engine = Open(policy);
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
        SqliteStorageEngine engine = Track(new SqliteStorageEngine(DataDirectory, new KeyPartitioner(8), policy, clock: clock));
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
        DurableStorageEngine engine = Open(FsyncPolicy.Always);
        await Put(engine, "a", "1");
        await engine.DisposeAsync();
        SetUserVersion(engine.DatabasePath, 4);

        var thrown = Assert.Throws<NotSupportedException>(() => new SqliteStorageEngine(DataDirectory, new KeyPartitioner(8), FsyncPolicy.Always));

        Assert.Contains("schema version 4", thrown.Message, StringComparison.Ordinal);
        Assert.Contains(engine.DatabasePath, thrown.Message, StringComparison.Ordinal);
        Assert.Equal(4, GetUserVersion(engine.DatabasePath));
    }

    [Fact]
    public async Task Constructor_DatabaseOfSchemaVersion1_GainsTheElementsTableAndKeepsItsKeys()
    {
        DurableStorageEngine first = Open(FsyncPolicy.Always);
        await Put(first, "a", "1", expiresAt: Now + 1000);
        await first.DisposeAsync();
        ExecuteRaw(first.DatabasePath, "DROP TABLE elements; DROP TABLE index_entries; ALTER TABLE kv DROP COLUMN kind; PRAGMA user_version = 1;");

        DurableStorageEngine second = Open(FsyncPolicy.Always);

        Assert.Equal(3, GetUserVersion(second.DatabasePath));
        Assert.Equal("1", Get(second, "a"));
        Assert.True(second.TryRead(Key("a"), Now, out StoredRecord upgraded));
        Assert.Equal(RecordKind.Value, upgraded.Kind);
        AssertCounts(second, keys: 1, withExpiry: 1);
        await PutElements(second, "a", ("f", "2"));
        Assert.Equal(["f=2"], ScanTexts(second, "a"));
        await second.ExecuteAsync(new DelegateOperation(t => t.Write(Key("h"), new StoredRecord(Key("header"), 0, RecordKind.TypedHeader))), Now);
        Assert.True(second.TryRead(Key("h"), Now, out StoredRecord header));
        Assert.Equal(RecordKind.TypedHeader, header.Kind);
    }

    protected override DurableStorageEngine Create(string directory, KeyPartitioner partitioner, FsyncPolicy policy, long recordCacheBytes) =>
        new SqliteStorageEngine(directory, partitioner, policy, recordCacheBytes: recordCacheBytes);

    /// <summary>The database and WAL files (no checkpoint, no shared-memory index).</summary>
    protected override void CopyCrashImage(DurableStorageEngine engine, string imageDatabase)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(imageDatabase)!);
        string wal = engine.DatabasePath + "-wal";
        Assert.True(new FileInfo(wal).Length > 0, "the acknowledged writes should still be in the WAL");
        File.Copy(engine.DatabasePath, imageDatabase);
        File.Copy(wal, imageDatabase + "-wal");
    }

    /// <summary>A clean shutdown checkpointed everything into the database file.</summary>
    protected override void AssertClosedCleanly(DurableStorageEngine engine) =>
        Assert.True(!File.Exists(engine.DatabasePath + "-wal") || new FileInfo(engine.DatabasePath + "-wal").Length == 0);

    /// <summary>The file exists, stamped with the schema version.</summary>
    protected override void AssertCreated(DurableStorageEngine engine) => Assert.Equal(3, GetUserVersion(engine.DatabasePath));

    private static void SetUserVersion(string databasePath, int version) => ExecuteRaw(databasePath, $"PRAGMA user_version = {version};");

    private static void ExecuteRaw(string databasePath, string sql)
    {
        using SqliteConnection connection = OpenRaw(databasePath);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
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
