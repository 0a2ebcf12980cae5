using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Tests;

/// <summary>
/// A <see cref="TransactionStage"/> over every engine (a single node's EXEC): staged operations write nothing to the
/// engine, see each other's writes (records and elements, deletes included) over the committed state, a failing one
/// stages nothing, and one commit applies the lot as the operations would have one after another.
/// </summary>
public abstract partial class StorageEngineContractTests
{
    [Fact]
    public async Task TransactionStage_HoldsWritesBack_ShowsThemToLaterOperations_AndCommitsThemTogether()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "gone", "old");
        await Put(engine, "kept", "same");
        await PutElements(engine, "h", ("f", "1"), ("g", "2"));
        await PutElements(engine, "emptied", ("x", "1"));
        var stage = new TransactionStage();

        await engine.ExecuteAsync(stage.Staging(new DelegateOperation(t =>
        {
            t.Write(Key("a"), new StoredRecord(Key("1"), 0));
            t.Delete(Key("gone"));
            t.WriteElement(Key("h"), Key("f"), Key("10"));
            t.DeleteElement(Key("h"), Key("g"));
            t.WriteElement(Key("h"), Key("new"), Key("3"));
            t.DeleteAllElements(Key("emptied"));
        })), Now);

        // Nothing reached the engine.
        Assert.Null(Get(engine, "a"));
        Assert.Equal("old", Get(engine, "gone"));
        Assert.Equal(["f=1", "g=2"], ScanTexts(engine, "h"));
        Assert.Equal(["x=1"], ScanTexts(engine, "emptied"));

        // A later operation reads the staged state over the committed one.
        var seen = new List<string?>();
        await engine.ExecuteAsync(stage.Staging(new DelegateOperation(t =>
        {
            seen.Add(ReadText(t, "a"));
            seen.Add(ReadText(t, "gone"));
            seen.Add(ReadText(t, "kept"));
            seen.Add(ReadElementText(t, "h", "f"));
            seen.Add(ReadElementText(t, "h", "g"));
            seen.Add(string.Join(",", ScanTexts(t, "h", 2)));
            seen.Add(string.Join(",", ScanTexts(t, "emptied", 2)));
            t.Write(Key("b"), new StoredRecord(Key(ReadText(t, "a") + "+1"), 0));
            t.Write(Key("a"), new StoredRecord(Key("2"), 0));
        })), Now);
        Assert.Equal(["1", null, "same", "10", null, "f=10,new=3", ""], seen);

        // A failing operation stages nothing.
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await engine.ExecuteAsync(stage.Staging(new DelegateOperation(t =>
        {
            t.Write(Key("c"), new StoredRecord(Key("never"), 0));
            t.WriteElement(Key("h"), Key("never"), Key("x"));
            throw new InvalidOperationException("the command failed");
        })), Now));
        Assert.Null(stage.TryReadStaged(Key("c"), Now, out _));
        Assert.Equal(true, stage.TryReadStaged(Key("a"), Now, out StoredRecord staged));
        Assert.Equal("2", Text(staged.Value));
        Assert.Equal(false, stage.TryReadStaged(Key("gone"), Now, out _));
        Assert.Null(Get(engine, "a"));

        await engine.ExecuteAsync(stage.Commit(), Now);
        stage.Clear();

        Assert.True(stage.IsEmpty);
        Assert.Equal("2", Get(engine, "a"));
        Assert.Equal("1+1", Get(engine, "b"));
        Assert.Null(Get(engine, "c"));
        Assert.Null(Get(engine, "gone"));
        Assert.Equal("same", Get(engine, "kept"));
        Assert.Equal(["f=10", "new=3"], ScanTexts(engine, "h"));
        Assert.Empty(ScanTexts(engine, "emptied"));
    }

    [Fact]
    public async Task TransactionStage_ADeleteThenWritesOfOneKey_CommitAsTheLastState()
    {
        IStorageEngine engine = CreateEngine();
        await Put(engine, "k", "header");
        await PutElements(engine, "k", ("old", "1"));
        var stage = new TransactionStage();

        await engine.ExecuteAsync(stage.Staging(new DelegateOperation(t =>
        {
            t.WriteElement(Key("k"), Key("before"), Key("2"));
            t.Delete(Key("k"));
            t.WriteElement(Key("k"), Key("after"), Key("3"));
            t.Write(Key("k"), new StoredRecord(Key("new header"), 0));
        })), Now);
        await engine.ExecuteAsync(stage.Commit(), Now);

        Assert.Equal("new header", Get(engine, "k"));
        Assert.Equal(["after=3"], ScanTexts(engine, "k"));
    }
}
