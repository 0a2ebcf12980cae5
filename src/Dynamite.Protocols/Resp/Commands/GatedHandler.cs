using System.Runtime.CompilerServices;
using Dynamite.Protocols.Resp.Isolation;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// Runs a command's handler holding the node's <see cref="IsolationGate"/>, which is what isolates a transaction or a
/// script, as redis-server's single thread does: EXEC and the script commands hold it alone, every other client command
/// shares it. The commands EXEC and a script run inside hold nothing themselves (their caller holds it for them), nor do
/// those redis-server serves while a script is busy (so SCRIPT KILL reaches a script that holds the gate), nor commands
/// another node forwarded here (their coordinator is that node, and on a cluster isolation is each coordinator's own:
/// waiting here for a transaction whose command waits for that node could deadlock the two). A blocking command lets go
/// of the gate while it waits (<see cref="BlockingWait"/>).
/// </summary>
internal static class GatedHandler
{
    /// <summary>The longest a command waits for the gate: for a transaction or a script to end, or a transaction for the
    /// commands running before it. Scripts are stopped well before (60 s); a transaction's commands end within their timeouts.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(2);

    /// <summary>A command's mode by its name (<see cref="CommandDefinition.Gate"/>).</summary>
    public static GateMode ModeOf(string lowerName) => lowerName switch
    {
        "exec" or "eval" or "evalsha" or "eval_ro" or "evalsha_ro" or "fcall" or "fcall_ro" or "dyn.exec" => GateMode.Exclusive,
        "auth" or "hello" or "quit" or "reset" or "multi" or "discard" or "shutdown" => GateMode.None,
        "script" or "function" => GateMode.BySubcommand,
        _ => GateMode.Shared,
    };

    public static ValueTask Invoke(CommandContext context, CommandDefinition command)
    {
        ClientSession client = context.Client;
        GateMode mode = command.Gate;
        // A forwarded command runs under the gate its own node's client held, except a forwarded transaction, which runs
        // alone here as EXEC does (the node that forwarded it holds nothing meanwhile).
        if (client.IsScript || client.InExec || (client.IsForwarded && mode != GateMode.Exclusive)
            || (mode == GateMode.BySubcommand && ScriptCommands.AllowedWhileBusy(command, context)))
        {
            mode = GateMode.None;
        }

        switch (mode)
        {
            case GateMode.None:
                return command.Handler(context);
            case GateMode.Shared or GateMode.BySubcommand when context.Server.Isolation.TryEnterShared():
                context.HoldsSharedGate = true;
                return RunShared(context, command);
            default:
                return EnterThenRunAsync(context, command, exclusive: mode == GateMode.Exclusive);
        }
    }

    /// <summary>Lets go of a shared hold before a wait that must not keep transactions out (a blocked BLPOP); false when it held none.</summary>
    public static bool LeaveShared(CommandContext context)
    {
        if (!context.HoldsSharedGate)
        {
            return false;
        }

        context.HoldsSharedGate = false;
        context.Server.Isolation.ExitShared();
        return true;
    }

    /// <summary>Takes a shared hold again after such a wait; false (holding nothing) when a busy script, the connection's
    /// end or <see cref="MaxWait"/> stopped the wait.</summary>
    public static async ValueTask<bool> ReenterSharedAsync(CommandContext context)
    {
        RespServer server = context.Server;
        if (server.Isolation.TryEnterShared()
            || await server.Isolation.EnterAsync(exclusive: false, server.ScriptIsBusyCheck, MaxWait, TimeProvider.System, context.Client.Closed))
        {
            context.HoldsSharedGate = true;
            return true;
        }

        return false;
    }

    private static ValueTask RunShared(CommandContext context, CommandDefinition command)
    {
        ValueTask run;
        try
        {
            run = command.Handler(context);
        }
        catch
        {
            LeaveShared(context);
            throw;
        }

        if (run.IsCompleted)
        {
            LeaveShared(context);
            return run;
        }

        return LeaveWhenDoneAsync(run, context);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask LeaveWhenDoneAsync(ValueTask run, CommandContext context)
    {
        try
        {
            await run;
        }
        finally
        {
            LeaveShared(context);
        }
    }

    private static async ValueTask EnterThenRunAsync(CommandContext context, CommandDefinition command, bool exclusive)
    {
        RespServer server = context.Server;
        if (!await server.Isolation.EnterAsync(exclusive, server.ScriptIsBusyCheck, MaxWait, TimeProvider.System, context.Client.Closed))
        {
            await GaveUp(context, command);
            return;
        }

        if (exclusive)
        {
            try
            {
                await command.Handler(context);
            }
            finally
            {
                server.Isolation.ExitExclusive();
            }

            return;
        }

        context.HoldsSharedGate = true;
        try
        {
            await command.Handler(context);
        }
        finally
        {
            LeaveShared(context);
        }
    }

    /// <summary>The reply of a command that stopped waiting for the gate, having run nothing.</summary>
    public static ValueTask GaveUp(CommandContext context, CommandDefinition command)
    {
        if (context.Client.Closed.IsCancellationRequested)
        {
            // Nobody reads a reply.
            return ValueTask.CompletedTask;
        }

        if (context.Server.ScriptIsBusy)
        {
            return CommandDispatcher.AnswerBusy(context, command);
        }

        if (command.LowerName == "exec" && context.Client.Transaction is not null)
        {
            context.Client.Transaction = null;
            context.Client.Watched = null;
            return context.Error("EXECABORT Transaction discarded because of: other commands did not finish in time");
        }

        return context.Error($"ERR timed out after {MaxWait.TotalSeconds} s waiting for a transaction or script to finish");
    }
}
