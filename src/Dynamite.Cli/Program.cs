using System.CommandLine;
using Dynamite.Cli;

// Socket completions run inline on the I/O thread (PERFORMANCE.md: the largest single effect). The socket
// engine reads this variable when it first starts, which is after this line.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

var root = new RootCommand("Dynamite: a leaderless, Dynamo-style, multi-datacenter key-value store that speaks the Redis protocol.")
{
    StartCommand.Create(),
    DemoCommand.Create(),
    StatusCommand.Create(),
    RingCommand.Create(),
    RepairCommand.Create(),
    MembershipCommands.Join(),
    MembershipCommands.Leave(),
    MembershipCommands.Remove(),
    BenchCommand.Create(),
    PubSubBenchCommand.Create(),
    CertsCommand.Create(),
};

// The node's host handles SIGINT/SIGTERM itself (graceful shutdown), so the parser must not.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
