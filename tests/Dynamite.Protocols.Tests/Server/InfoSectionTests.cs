using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.Server;

/// <summary>INFO's sections as redis-server 7.0 groups them: commandstats counts calls, refusals and errors per command.</summary>
public sealed class InfoSectionTests : StandaloneNodeTests
{
    [Fact]
    public async Task Commandstats_CountsCallsRefusedCallsAndFailedCallsPerCommand()
    {
        await Call("SET", "k", "v");
        await Call("SET", "n", "1");
        await Call("INCR", "k");
        await Call("INCR", "n");
        await Call("GET");

        string stats = await Call("INFO", "commandstats");

        Assert.Contains("# Commandstats", stats, StringComparison.Ordinal);
        Assert.Matches(@"cmdstat_set:calls=2,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0", stats);
        Assert.Matches(@"cmdstat_incr:calls=2,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=1", stats);
        Assert.Matches(@"cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0", stats);
        Assert.DoesNotContain("cmdstat_hset", stats, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("all", true)]
    [InlineData("everything", true)]
    [InlineData("default", false)]
    public async Task AllAndEverything_AddCommandstats_DefaultLeavesThemOut(string argument, bool withCommandStats)
    {
        await Call("SET", "k", "v");

        string info = await Call("INFO", argument);

        Assert.Contains("# CPU", info, StringComparison.Ordinal);
        Assert.Contains("used_cpu_user:", info, StringComparison.Ordinal);
        Assert.Equal(withCommandStats, info.Contains("rejected_calls", StringComparison.Ordinal));
    }
}
