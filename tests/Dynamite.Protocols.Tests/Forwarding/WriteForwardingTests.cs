using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.Forwarding;

/// <summary>
/// A write of one key that the store says runs elsewhere (a cluster node that is not a primary of the key) is handed
/// on whole and its reply sent to the client as it is; reads, writes of several keys and keys this node coordinates
/// run here, and a command inside MULTI is handed on when EXEC runs it.
/// </summary>
public sealed class WriteForwardingTests
{
    private static string Command(params string[] arguments) => RespText.Command(arguments);

    [Fact]
    public async Task SingleKeyWrites_OfKeysThatRunElsewhere_AreHandedOnWhole()
    {
        var store = new GatedStore(_ => Task.CompletedTask) { ForwardsWritesOfKey = key => key.StartsWith("far:", StringComparison.Ordinal) };
        await using RespTestConnection connection = RespTestConnection.Start(store);

        await connection.SendAsync(Command("HSET", "far:h", "f", "v") + Command("GET", "far:k") + Command("SET", "near", "1") + Command("MSET", "far:a", "1", "far:b", "2")
            + Command("DEL", "far:x") + Command("MULTI") + Command("INCR", "far:c") + Command("EXEC"));

        const string expected = ":42\r\n$-1\r\n+OK\r\n+OK\r\n:42\r\n+OK\r\n+QUEUED\r\n*1\r\n:42\r\n";
        Assert.Equal(expected, await connection.ReceiveAsync(expected));
        Assert.Equal(["HSET far:h f v", "DEL far:x", "INCR far:c"], store.Forwarded.Select(arguments => string.Join(' ', arguments)));
        Assert.Equal("1", store.Value("near"));
        Assert.Equal("1", store.Value("far:a"));
    }

    [Fact]
    public async Task HandedOnCommands_CarryTheConnectionsConsistency()
    {
        var store = new GatedStore(_ => Task.CompletedTask) { ForwardsWritesOfKey = key => key.StartsWith("far:", StringComparison.Ordinal) };
        await using RespTestConnection connection = RespTestConnection.Start(store);

        await connection.SendAsync(Command("SADD", "far:s", "a") + Command("DYN.CONSISTENCY", "DC_ONE") + Command("SADD", "far:s", "b")
            + Command("DYN.CONSISTENCY", "DEFAULT") + Command("SADD", "far:s", "c"));

        const string expected = ":42\r\n+OK\r\n:42\r\n+OK\r\n:42\r\n";
        Assert.Equal(expected, await connection.ReceiveAsync(expected));
        Assert.Equal(["default", "DC_ONE", "default"], store.ForwardedConsistency);
    }
}
