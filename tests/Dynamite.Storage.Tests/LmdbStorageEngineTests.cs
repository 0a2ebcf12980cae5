using System.Buffers.Binary;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Storage.Lmdb;
using LightningDB;
using Microsoft.Extensions.Time.Testing;

namespace Dynamite.Storage.Tests;

/// <summary>
/// Runs the durable engine contract against the LMDB engine, plus what only LMDB does: keys longer than LMDB's key
/// limit, a full map, the directory lock, lock-free readers hopping threads, the batch policy's sync thread, and format
/// versioning.
/// </summary>
public sealed class LmdbStorageEngineTests : DurableEngineContractTests
{
    /// <summary>The batch policy's sync interval.</summary>
    private static readonly TimeSpan SyncInterval = TimeSpan.FromSeconds(1);

    protected override string EngineName => "lmdb";

    protected override string DatabaseName => LmdbStorageEngine.DirectoryName;

    [Fact]
    public async Task LongKeys_BeyondLmdbKeyLimit_RoundTripScanSweepAndSurviveReopen()
    {
        var partitioner = new KeyPartitioner(4);
        LmdbStorageEngine first = Track(new LmdbStorageEngine(DataDirectory, partitioner, FsyncPolicy.Always));

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

        LmdbStorageEngine second = Track(new LmdbStorageEngine(DataDirectory, partitioner, FsyncPolicy.Always));
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
        LmdbStorageEngine engine = Track(new LmdbStorageEngine(DataDirectory, new KeyPartitioner(8), FsyncPolicy.Never, mapSizeBytes: 1L << 20));
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
    public async Task MapFull_ElementsThatDoNotFit_FailWithTheirHeaderAndLeaveTheOldOnes()
    {
        LmdbStorageEngine engine = Track(new LmdbStorageEngine(DataDirectory, new KeyPartitioner(8), FsyncPolicy.Never, mapSizeBytes: 1L << 20));
        await Put(engine, "h", "old header");
        await PutElements(engine, "h", ("kept", "1"));
        await engine.ExecuteAsync(new DelegateOperation(t => t.WriteElement(Key("filler"), Key("f"), new byte[600_000])), Now);

        await Assert.ThrowsAsync<LmdbMapFullException>(async () => await engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.Write(Key("h"), new StoredRecord(Key("new header"), 0));
                t.DeleteAllElements(Key("h"));
                t.WriteElement(Key("h"), Key("too-big"), new byte[600_000]);
            }),
            Now));

        Assert.Equal("old header", Get(engine, "h"));
        Assert.Equal(["kept=1"], ScanTexts(engine, "h"));
    }

    [Fact]
    public void Open_DirectoryAlreadyOpen_Throws()
    {
        DurableStorageEngine first = Open(FsyncPolicy.Always);

        var thrown = Assert.Throws<IOException>(() => new LmdbStorageEngine(DataDirectory, new KeyPartitioner(8), FsyncPolicy.Always));

        Assert.Contains(first.DatabasePath, thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TryRead_ManyThreadsWhileWriting_SeeOnlyCommittedValues()
    {
        DurableStorageEngine engine = Open(FsyncPolicy.Never);
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
    public async Task BatchPolicy_OneIntervalAfterAWrite_SyncsOnceAndNotWhenIdle()
    {
        var clock = new FakeTimeProvider();
        LmdbStorageEngine engine = Track(new LmdbStorageEngine(DataDirectory, new KeyPartitioner(8), FsyncPolicy.Batch, clock: clock));
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
        LmdbStorageEngine engine = Track(new LmdbStorageEngine(DataDirectory, new KeyPartitioner(8), policy, clock: clock));
        await Put(engine, "a", "1");

        clock.Advance(SyncInterval * 3);
        await Task.Delay(200);

        Assert.Equal(0, engine.SyncCount);
    }

    [Fact]
    public async Task Constructor_DatabaseFromNewerFormatVersion_ThrowsNotSupported()
    {
        DurableStorageEngine engine = Open(FsyncPolicy.Always);
        await Put(engine, "a", "1");
        await engine.DisposeAsync();
        WriteRaw(engine.DatabasePath, "meta", "format-version"u8.ToArray(), BitConverter.GetBytes(4));

        var thrown = Assert.Throws<NotSupportedException>(() => new LmdbStorageEngine(DataDirectory, new KeyPartitioner(8), FsyncPolicy.Always));

        Assert.Contains("format version 4", thrown.Message, StringComparison.Ordinal);
        Assert.Contains(engine.DatabasePath, thrown.Message, StringComparison.Ordinal);

        // Refused without taking the directory: after the fix (here, this build's version back) it opens again.
        WriteRaw(engine.DatabasePath, "meta", "format-version"u8.ToArray(), BitConverter.GetBytes(2));
        Assert.Equal("1", Get(Open(FsyncPolicy.Always), "a"));
    }

    [Fact]
    public async Task Constructor_DatabaseOfFormatVersion1_GainsTheElementsDatabaseAndKeepsItsKeys()
    {
        DurableStorageEngine first = Open(FsyncPolicy.Always);
        await Put(first, "a", "1", expiresAt: Now + 1000);
        await first.DisposeAsync();
        using (var environment = OpenRaw(first.DatabasePath))
        using (LightningTransaction transaction = environment.BeginTransaction())
        {
            using LightningDatabase elements = transaction.OpenDatabase("elements");
            Assert.Equal(MDBResultCode.Success, transaction.DropDatabase(elements));
            using LightningDatabase index = transaction.OpenDatabase("index");
            Assert.Equal(MDBResultCode.Success, transaction.DropDatabase(index));
            using LightningDatabase meta = transaction.OpenDatabase("meta");
            Assert.Equal(MDBResultCode.Success, transaction.Put(meta, "format-version"u8.ToArray(), BitConverter.GetBytes(1)));
            Assert.Equal(MDBResultCode.Success, transaction.Commit());
        }

        DurableStorageEngine second = Open(FsyncPolicy.Always);

        Assert.Equal("1", Get(second, "a"));
        AssertCounts(second, keys: 1, withExpiry: 1);
        await PutElements(second, "a", ("f", "2"));
        Assert.Equal(["f=2"], ScanTexts(second, "a"));
        await second.DisposeAsync();
        using (var environment = OpenRaw(second.DatabasePath))
        using (LightningTransaction transaction = environment.BeginTransaction(TransactionBeginFlags.ReadOnly))
        {
            using LightningDatabase meta = transaction.OpenDatabase("meta");
            (MDBResultCode result, _, MDBValue version) = transaction.Get(meta, "format-version"u8.ToArray());
            Assert.Equal(MDBResultCode.Success, result);
            Assert.Equal(3, BitConverter.ToInt32(version.AsSpan()));
        }
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
        WriteRaw(engine.DatabasePath, "data", dataKey, [7, 1, 2, 3]);

        DurableStorageEngine reopened = Open(FsyncPolicy.Always);

        Assert.Throws<InvalidDataException>(() => reopened.TryRead(key, Now, out _));
    }

    protected override DurableStorageEngine Create(string directory, KeyPartitioner partitioner, FsyncPolicy policy, long recordCacheBytes) =>
        new LmdbStorageEngine(directory, partitioner, policy, recordCacheBytes: recordCacheBytes);

    /// <summary>The data file as the operating system has it (no sync under batch and never).</summary>
    protected override void CopyCrashImage(DurableStorageEngine engine, string imageDatabase)
    {
        Directory.CreateDirectory(imageDatabase);
        File.Copy(Path.Combine(engine.DatabasePath, "data.mdb"), Path.Combine(imageDatabase, "data.mdb"));
    }

    protected override void AssertCreated(DurableStorageEngine engine) =>
        Assert.True(File.Exists(Path.Combine(engine.DatabasePath, "data.mdb")));

    private static byte[] LongKey(int length, char fill)
    {
        byte[] key = new byte[length];
        Array.Fill(key, (byte)fill);
        key[^1] = (byte)'!';
        return key;
    }

    /// <summary>Writes one key straight into a closed engine's environment, as damage or a newer version would leave it.
    /// (An engine was opened in this process first, so LightningDB already calls the system's LMDB.)</summary>
    private static void WriteRaw(string databasePath, string database, byte[] key, byte[] value)
    {
        using LightningEnvironment environment = OpenRaw(databasePath);
        using (LightningTransaction transaction = environment.BeginTransaction())
        {
            using LightningDatabase db = transaction.OpenDatabase(database);
            Assert.Equal(MDBResultCode.Success, transaction.Put(db, key, value));
            Assert.Equal(MDBResultCode.Success, transaction.Commit());
        }
    }

    /// <summary>A closed engine's environment, opened directly.</summary>
    private static LightningEnvironment OpenRaw(string databasePath)
    {
        var environment = new LightningEnvironment(databasePath, new EnvironmentConfiguration { MaxDatabases = 5, MapSize = 64L << 20 });
        environment.Open(EnvironmentOpenFlags.NoThreadLocalStorage);
        return environment;
    }
}
