namespace Dynamite.Storage.Tests;

/// <summary>A staged transaction's commit is one commit of a durable engine, however many operations it held.</summary>
public abstract partial class DurableEngineContractTests
{
    [Fact]
    public async Task TransactionStage_CommitsEveryStagedOperationInOneCommit()
    {
        DurableStorageEngine engine = Open(FsyncPolicy.Always);
        var stage = new TransactionStage();
        long commitsBefore = engine.CommitCount;
        for (int i = 0; i < 20; i++)
        {
            string key = $"k{i}";
            await engine.ExecuteAsync(stage.Staging(new DelegateOperation(t => t.Write(Key(key), new Core.KeyValue.StoredRecord(Key("v"), 0)))), Now);
        }

        Assert.Equal(commitsBefore, engine.CommitCount);
        await engine.ExecuteAsync(stage.Commit(), Now);
        Assert.Equal(commitsBefore + 1, engine.CommitCount);
        AssertCounts(engine, keys: 20, withExpiry: 0);
    }
}
