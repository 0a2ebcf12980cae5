using System.Globalization;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.RealClients;

/// <summary>Debian's redis-cli against a real node, as a user types it.</summary>
public sealed class RedisCliTests(SingleNodeFixture fixture) : IClassFixture<SingleNodeFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private Task<ExternalTool.Result> CliAsync(params string[] arguments) =>
        ExternalTool.RunAsync("redis-cli", ["-p", fixture.Node.Port.ToString(CultureInfo.InvariantCulture), .. arguments], Timeout);

    [Fact]
    public async Task SetThenGet_ReturnsValue()
    {
        Assert.Equal("OK", (await CliAsync("set", "cli:k", "v")).StandardOutput.Trim());
        Assert.Equal("v", (await CliAsync("get", "cli:k")).StandardOutput.Trim());
        Assert.Equal("", (await CliAsync("get", "cli:absent")).StandardOutput.Trim());
    }

    [Fact]
    public async Task Resp3_Hello3ThenCommands_Work()
    {
        Assert.Equal("41", (await CliAsync("-3", "incrby", "cli:n", "41")).StandardOutput.Trim());
        Assert.Equal("(integer) 42", (await CliAsync("-3", "--no-raw", "incr", "cli:n")).StandardOutput.Trim());
        Assert.Equal("\"42\"", (await CliAsync("-3", "--no-raw", "get", "cli:n")).StandardOutput.Trim());
        Assert.Equal("(nil)", (await CliAsync("-3", "--no-raw", "get", "cli:absent3")).StandardOutput.Trim());
    }

    [Fact]
    public async Task Pipe_ThousandCommands_AllReplied()
    {
        var input = new System.Text.StringBuilder();
        for (int i = 0; i < 1000; i++)
        {
            input.Append(System.Text.Encoding.Latin1.GetString(RawRespClient.Encode("SET", $"pipe:{i}", $"{i}")));
        }

        ExternalTool.Result result = await ExternalTool.RunAsync(
            "redis-cli", ["-p", fixture.Node.Port.ToString(CultureInfo.InvariantCulture), "--pipe"], Timeout, input.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("errors: 0, replies: 1000", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal("999", (await CliAsync("get", "pipe:999")).StandardOutput.Trim());
    }

    [Fact]
    public async Task ScanIterate_SeesEveryKeyOnce()
    {
        for (int i = 0; i < 50; i++)
        {
            await CliAsync("set", $"scan:{i}", "x");
        }

        ExternalTool.Result result = await CliAsync("--scan", "--pattern", "scan:*");
        string[] keys = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(50, keys.Distinct().Count());
    }

    [Fact]
    public async Task ErrorReply_ShownAsError_ServerKeepsServing()
    {
        await CliAsync("set", "cli:text", "abc");
        Assert.Contains("ERR value is not an integer or out of range", (await CliAsync("incr", "cli:text")).StandardOutput, StringComparison.Ordinal);
        Assert.Equal("PONG", (await CliAsync("ping")).StandardOutput.Trim());
    }

    [Fact]
    public async Task Info_HasServerAndKeyspaceSections()
    {
        string info = (await CliAsync("info")).StandardOutput;
        Assert.Contains("# Server", info, StringComparison.Ordinal);
        Assert.Contains("# Keyspace", info, StringComparison.Ordinal);
    }
}
