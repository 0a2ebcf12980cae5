using System.Globalization;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.RealClients;

/// <summary>Debian's python3-redis (redis-py) runs an application-style script against each engine.</summary>
public sealed class PythonRedisTests
{
    /// <summary>Debian's interpreter, where apt installs python3-redis (a PATH python3 may be another one).</summary>
    private const string Python = "/usr/bin/python3";

    [Theory]
    [InlineData("memory")]
    [InlineData("rocksdb")]
    public async Task RedisPy_ApplicationCalls_AllBehaveAsOnRedis(string engine)
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync(engine);
        string script = Path.Combine(AppContext.BaseDirectory, "Python", "redis_py_check.py");
        ExternalTool.Result result = await ExternalTool.RunAsync(Python, [script, node.Port.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0 && result.StandardOutput.Trim().EndsWith("OK", StringComparison.Ordinal), result.ToString());
    }
}
