using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.Transactions;

/// <summary>
/// MULTI/EXEC/DISCARD as redis-server answers them, over a store whose operations wait (as a cluster's quorum does):
/// nothing queued runs before EXEC, a command refused while queueing makes EXEC run nothing, and EXEC runs the queue
/// in order, one command after the other.
/// </summary>
[Collection(ProcessMeasurementCollection.Name)]
public sealed class TransactionTests
{
    private static string Command(params string[] arguments) => RespText.Command(arguments);

    private static GatedStore WaitingStore() => new(index => Task.Delay(Math.Max(1, 20 - index)));

    [Fact]
    public async Task Exec_RunsTheQueueInOrder_AndAnswersAnArrayOfTheReplies()
    {
        GatedStore store = WaitingStore();
        await using var connection = RespTestConnection.Start(store);

        await connection.SendAsync(Command("MULTI") + Command("SET", "a", "1") + Command("INCR", "a") + Command("GET", "a") + Command("EXEC") + Command("GET", "a"));

        const string expected = "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n$1\r\n2\r\n";
        Assert.Equal(expected, await connection.ReceiveAsync(expected));
        Assert.False(store.OverlappedOnOneKey);
    }

    [Fact]
    public async Task QueuedCommands_DoNotRunBeforeExec()
    {
        GatedStore store = WaitingStore();
        await using var connection = RespTestConnection.Start(store);

        await connection.SendAsync(Command("MULTI") + Command("SET", "a", "1"));
        const string queued = "+OK\r\n+QUEUED\r\n";
        Assert.Equal(queued, await connection.ReceiveAsync(queued));
        Assert.Null(store.Value("a"));

        await connection.SendAsync(Command("EXEC"));
        const string executed = "*1\r\n+OK\r\n";
        Assert.Equal(executed, await connection.ReceiveAsync(executed));
        Assert.Equal("1", store.Value("a"));
    }

    [Theory]
    [InlineData("NOSUCHCOMMAND", "-ERR unknown command 'NOSUCHCOMMAND', with args beginning with: \r\n")]
    [InlineData("GET", "-ERR wrong number of arguments for 'get' command\r\n")]
    public async Task ACommandRefusedWhileQueueing_MakesExecRunNothing(string refused, string error)
    {
        GatedStore store = WaitingStore();
        await using var connection = RespTestConnection.Start(store);

        await connection.SendAsync(Command("MULTI") + Command("SET", "a", "1") + Command(refused) + Command("SET", "b", "2") + Command("EXEC"));

        string expected = "+OK\r\n+QUEUED\r\n" + error + "+QUEUED\r\n-EXECABORT Transaction discarded because of previous errors.\r\n";
        Assert.Equal(expected, await connection.ReceiveAsync(expected));
        Assert.Null(store.Value("a"));
        Assert.Null(store.Value("b"));
    }

    [Fact]
    public async Task ACommandFailingWhileRunning_PutsItsErrorInTheArray_AndTheOthersStillRun()
    {
        GatedStore store = WaitingStore();
        store.Seed("text", "abc");
        await using var connection = RespTestConnection.Start(store);

        await connection.SendAsync(Command("MULTI") + Command("INCR", "text") + Command("SET", "b", "2") + Command("EXEC"));

        const string expected = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n-ERR value is not an integer or out of range\r\n+OK\r\n";
        Assert.Equal(expected, await connection.ReceiveAsync(expected));
        Assert.Equal("2", store.Value("b"));
    }

    [Fact]
    public async Task Discard_DropsTheQueue()
    {
        GatedStore store = WaitingStore();
        await using var connection = RespTestConnection.Start(store);

        await connection.SendAsync(Command("MULTI") + Command("SET", "a", "1") + Command("DISCARD") + Command("EXEC") + Command("GET", "a"));

        const string expected = "+OK\r\n+QUEUED\r\n+OK\r\n-ERR EXEC without MULTI\r\n$-1\r\n";
        Assert.Equal(expected, await connection.ReceiveAsync(expected));
        Assert.Null(store.Value("a"));
    }

    [Fact]
    public async Task MisusedTransactionCommands_GetRedisErrors()
    {
        await using var connection = RespTestConnection.Start(WaitingStore());

        await connection.SendAsync(
            Command("EXEC") + Command("DISCARD") + Command("MULTI") + Command("MULTI") + Command("WATCH", "k") + Command("EXEC")
            + Command("MULTI") + Command("EXEC") + Command("UNWATCH"));

        const string expected =
            "-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n+OK\r\n-ERR MULTI calls can not be nested\r\n"
            + "-ERR WATCH inside MULTI is not allowed\r\n*0\r\n+OK\r\n*0\r\n+OK\r\n";
        Assert.Equal(expected, await connection.ReceiveAsync(expected));
    }

    [Fact]
    public async Task Exec_AfterAWatchedKeyChanged_AnswersNull_AndRunsNothing()
    {
        GatedStore store = WaitingStore();
        await using var connection = RespTestConnection.Start(store);

        // The change may come from the watching client itself, as in redis-server.
        await connection.SendAsync(Command("WATCH", "k") + Command("SET", "k", "other") + Command("MULTI") + Command("SET", "k", "v") + Command("EXEC") + Command("GET", "k"));

        const string expected = "+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*-1\r\n$5\r\nother\r\n";
        Assert.Equal(expected, await connection.ReceiveAsync(expected));
    }

    [Fact]
    public async Task Exec_WithItsWatchedKeysUnchanged_Commits_AndForgetsThem()
    {
        GatedStore store = WaitingStore();
        await using var connection = RespTestConnection.Start(store);

        await connection.SendAsync(
            Command("SET", "k", "1") + Command("WATCH", "k", "absent") + Command("MULTI") + Command("SET", "k", "2") + Command("EXEC")
            + Command("SET", "k", "3") + Command("MULTI") + Command("SET", "k", "4") + Command("EXEC"));

        const string expected = "+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n";
        Assert.Equal(expected, await connection.ReceiveAsync(expected));
        Assert.Equal("4", store.Value("k"));
    }

    [Fact]
    public async Task Unwatch_ForgetsAChangedKey_SoTheNextExecCommits()
    {
        GatedStore store = WaitingStore();
        await using var connection = RespTestConnection.Start(store);

        await connection.SendAsync(Command("WATCH", "k") + Command("SET", "k", "x") + Command("UNWATCH") + Command("MULTI") + Command("SET", "k", "v") + Command("EXEC"));

        const string expected = "+OK\r\n+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n";
        Assert.Equal(expected, await connection.ReceiveAsync(expected));
        Assert.Equal("v", store.Value("k"));
    }
}
