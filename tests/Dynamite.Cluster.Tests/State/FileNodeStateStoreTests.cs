using Dynamite.Cluster.State;
using Xunit;

namespace Dynamite.Cluster.Tests.State;

public sealed class FileNodeStateStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dynamite-state-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Write_ThenRead_ReturnsTheContentsAndLeavesNoTemporaryFile()
    {
        var store = new FileNodeStateStore(_directory);
        store.Write("cluster-state.bin", [1, 2, 3]);
        store.Write("cluster-state.bin", [4, 5]);

        Assert.Equal([4, 5], store.Read("cluster-state.bin"));
        Assert.True(store.Exists("cluster-state.bin"));
        Assert.Equal(["cluster-state.bin"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void Read_MissingFile_IsNull_AndDeleteOfAMissingFileIsHarmless()
    {
        var store = new FileNodeStateStore(_directory);
        Assert.Null(store.Read("warmup-owed"));
        store.Delete("warmup-owed");
        store.Write("warmup-owed", "owed"u8);
        store.Delete("warmup-owed");
        Assert.False(store.Exists("warmup-owed"));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("sub/dir")]
    [InlineData("..")]
    [InlineData("")]
    public void Write_NameThatIsNotAPlainFileName_Throws(string name)
    {
        var store = new FileNodeStateStore(_directory);
        Assert.Throws<ArgumentException>(() => store.Write(name, [1]));
    }

    [Fact]
    public void Write_ReopenedStore_SeesTheSameFiles()
    {
        new FileNodeStateStore(_directory).Write("incarnation", "1a2b3c4d"u8);
        Assert.Equal("1a2b3c4d"u8.ToArray(), new FileNodeStateStore(_directory).Read("incarnation"));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
