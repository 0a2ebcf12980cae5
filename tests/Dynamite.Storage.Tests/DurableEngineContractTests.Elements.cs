namespace Dynamite.Storage.Tests;

/// <summary>
/// What the durable engines promise for elements beyond the storage contract: elements survive a restart and a crash
/// like records, go through the group commit with the records (in queue order, one commit), and are read without
/// waiting for the writer.
/// </summary>
public abstract partial class DurableEngineContractTests
{
    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    [InlineData(FsyncPolicy.Never)]
    public async Task Reopen_AfterDispose_KeepsElementsAndTheirDeletes(FsyncPolicy policy)
    {
        DurableStorageEngine first = Open(policy);
        byte[] longName = new byte[3000];
        Array.Fill(longName, (byte)'n');
        await Put(first, "h", "header");
        await PutElements(first, "h", ("f", "1"), ("g", "2"), ("gone", "3"));
        await first.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.DeleteElement(Key("h"), Key("gone"));
                t.WriteElement(Key("h"), longName, Key("long"));
            }),
            Now);
        await Put(first, "deleted", "header");
        await PutElements(first, "deleted", ("f", "4"));
        await Remove(first, "deleted");
        await first.DisposeAsync();

        DurableStorageEngine second = Open(policy);

        Assert.Equal(["f=1", "g=2"], ScanTexts(second, "h").Where(e => !e.StartsWith('n')));
        Assert.True(second.TryReadElement(Key("h"), longName, out byte[]? value));
        Assert.Equal("long", Text(value));
        Assert.Null(ReadElementText(second, "h", Key("gone")));
        Assert.Empty(ScanTexts(second, "deleted"));
        AssertCounts(second, keys: 1, withExpiry: 0);
    }

    [Fact]
    public async Task Reopen_AfterDispose_KeepsIndexEntriesAndTheirDeletes()
    {
        DurableStorageEngine first = Open(FsyncPolicy.Always);
        await first.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.WriteIndexEntry(Key("z"), Key("a"));
                t.WriteIndexEntry(Key("z"), Key("b"));
                t.WriteIndexEntry(Key("z"), Key("gone"));
            }),
            Now);
        await first.ExecuteAsync(new DelegateOperation(t => t.DeleteIndexEntry(Key("z"), Key("gone"))), Now);
        await first.DisposeAsync();

        DurableStorageEngine second = Open(FsyncPolicy.Always);
        var entries = new List<string>();
        await second.ExecuteAsync(
            new DelegateOperation(t => entries.AddRange(t.ScanIndexBackward(Key("z"), null, 10).Elements.Select(e => Text(e.Name)))),
            Now);

        Assert.Equal(["b", "a"], entries);
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    [InlineData(FsyncPolicy.Never)]
    public async Task Open_CrashImageTakenAfterAcknowledgement_RecoversAcknowledgedElements(FsyncPolicy policy)
    {
        DurableStorageEngine engine = Open(policy);
        for (int i = 0; i < 20; i++)
        {
            await Put(engine, $"k{i}", "header");
            await PutElements(engine, $"k{i}", ("f", $"v{i}"), ("g", $"w{i}"));
        }

        string image = Path.Combine(DataDirectory, "crash-image");
        CopyCrashImage(engine, Path.Combine(image, DatabaseName));

        DurableStorageEngine recovered = Open(policy, image);

        for (int i = 0; i < 20; i++)
        {
            Assert.Equal([$"f=v{i}", $"g=w{i}"], ScanTexts(recovered, $"k{i}"));
        }

        AssertCounts(recovered, keys: 20, withExpiry: 0);
    }

    [Fact]
    public async Task ClearAsync_WithElementsThenReopen_StaysEmpty()
    {
        DurableStorageEngine first = Open(FsyncPolicy.Always);
        await PutElements(first, "h", ("f", "1"), ("g", "2"));
        await first.FlushAsync();
        await first.ClearAsync();
        await first.DisposeAsync();

        DurableStorageEngine second = Open(FsyncPolicy.Always);

        Assert.Empty(ScanTexts(second, "h"));
        Assert.Null(ReadElementText(second, "h", Key("f")));
    }

    [Fact]
    public async Task ElementReads_WhileWriterRunsAnOperation_ReturnCommittedElementsWithoutWaiting()
    {
        DurableStorageEngine engine = Open(FsyncPolicy.Always);
        await PutElements(engine, "h", ("f", "committed"));
        using var gate = new WriterGate();

        Task gated = engine.ExecuteAsync(
            new DelegateOperation(t =>
            {
                t.WriteElement(Key("h"), Key("f"), Key("pending"));
                t.WriteElement(Key("h"), Key("g"), Key("pending"));
                gate.Block();
            }),
            Now).AsTask();
        gate.WaitUntilEntered();

        Assert.Equal("committed", ReadElementText(engine, "h", Key("f")));
        Assert.Equal(["f=committed"], ScanTexts(engine, "h"));
        gate.Release();
        await gated;
        Assert.Equal(["f=pending", "g=pending"], ScanTexts(engine, "h"));
    }

    [Fact]
    public async Task ExecuteAsync_ElementOperationsQueuedWhileWriterBusy_CommitAsOneGroupInOrder()
    {
        DurableStorageEngine engine = Open(FsyncPolicy.Always);
        await PutElements(engine, "h", ("old", "1"), ("n", "100"));
        using var gate = new WriterGate();
        Task gated = engine.ExecuteAsync(gate.Operation, Now).AsTask();
        gate.WaitUntilEntered();
        long commitsBefore = engine.CommitCount;

        // One group: increments of one element, a delete of all the key's elements halfway, and a failing operation.
        var operations = new List<Task>();
        Task? failing = null;
        for (int i = 0; i < 150; i++)
        {
            if (i == 75)
            {
                operations.Add(engine.ExecuteAsync(new DelegateOperation(t => t.DeleteAllElements(Key("h"))), Now).AsTask());
            }

            if (i == 100)
            {
                failing = engine.ExecuteAsync(
                    new DelegateOperation(t =>
                    {
                        t.WriteElement(Key("h"), Key("n"), Key("-1000"));
                        t.DeleteAllElements(Key("h"));
                        throw new InvalidOperationException("fails alone");
                    }),
                    Now).AsTask();
            }

            operations.Add(engine.ExecuteAsync(
                new DelegateOperation(t =>
                {
                    int current = t.TryReadElement(Key("h"), Key("n"), out byte[]? value) ? int.Parse(Text(value), System.Globalization.CultureInfo.InvariantCulture) : 0;
                    t.WriteElement(Key("h"), Key("n"), Key((current + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                }),
                Now).AsTask());
        }

        Assert.All(operations, t => Assert.False(t.IsCompleted));
        gate.Release();
        await gated;
        await Task.WhenAll(operations);
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing!);

        // 75 increments from 100, then all deleted, then 75 increments from nothing.
        Assert.Equal(["n=75"], ScanTexts(engine, "h"));
        Assert.Equal(commitsBefore + 1, engine.CommitCount);
    }

    [Fact]
    public async Task ElementReads_AfterDispose_ThrowObjectDisposedException()
    {
        DurableStorageEngine engine = Open(FsyncPolicy.Always);
        await PutElements(engine, "h", ("f", "1"));

        await engine.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => engine.TryReadElement(Key("h"), Key("f"), out _));
        Assert.Throws<ObjectDisposedException>(() => engine.ScanElements(Key("h"), null, 10));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => PutElements(engine, "h", ("g", "2")));
    }
}
