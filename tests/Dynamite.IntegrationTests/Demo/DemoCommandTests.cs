using System.Diagnostics;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Demo;

public sealed class DemoCommandTests
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Demo_ThreeNodesThenSigint_EveryNodeAnswersThenEveryChildIsGone()
    {
        await using DemoProcess demo = DemoProcess.Start(nodes: 3, engine: "memory");
        await WaitForOutputAsync(demo, "redis-cli -p");

        var pids = new List<int>();
        for (int node = 1; node <= 3; node++)
        {
            pids.Add(int.Parse(File.ReadAllText(demo.PidFile(node)).Trim()));
            using RawRespClient client = RawRespClient.Connect(demo.RespPort(node));
            Assert.Equal("PONG", client.Call("PING").Text);
        }

        Assert.Contains($"redis-cli -p {demo.RespPort(1)} set hello world", demo.Output, StringComparison.Ordinal);
        Assert.Equal(3, pids.Distinct().Count());

        demo.Signal(Signals.SigInt);

        Assert.True(await demo.WaitForExitAsync(TimeSpan.FromSeconds(30)), "demo did not exit after SIGINT:\n" + demo.Output);
        Assert.Equal(0, demo.ExitCode);
        foreach (int pid in pids)
        {
            Assert.False(IsRunning(pid), $"node process {pid} survived the demo:\n{demo.Output}");
        }

        Assert.Contains("Every node stopped.", demo.Output, StringComparison.Ordinal);
    }

    private static async Task WaitForOutputAsync(DemoProcess demo, string text)
    {
        var clock = Stopwatch.StartNew();
        while (!demo.Output.Contains(text, StringComparison.Ordinal))
        {
            if (demo.HasExited)
            {
                throw new InvalidOperationException($"demo exited with {demo.ExitCode}:\n{demo.Output}");
            }

            if (clock.Elapsed > ReadyTimeout)
            {
                throw new TimeoutException($"demo not ready within {ReadyTimeout}:\n{demo.Output}");
            }

            await Task.Delay(100);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
