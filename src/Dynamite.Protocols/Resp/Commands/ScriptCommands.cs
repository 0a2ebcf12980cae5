using System.Text;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Protocols.Resp.Scripting;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP, as redis-server 7.0 answers them, in Lua
/// 5.4 with Redis's libraries (<see cref="ScriptPrelude"/>). Each script runs on the node's script thread
/// (<see cref="ScriptRunner"/>); its <c>redis.call</c>s run as commands of this node (<see cref="ScriptCommandHost"/>),
/// so they replicate as those commands do. On a cluster node the keys a script declares must share a slot.
/// </summary>
internal static class ScriptCommands
{
    private const CommandFlags ScriptFlags = CommandFlags.Stale;

    private static readonly IReadOnlyList<string> HelpLines =
    [
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    ];

    private static readonly HashSet<string> NoScript = new(StringComparer.Ordinal)
    {
        "multi", "exec", "discard", "watch", "unwatch", "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe",
        "sunsubscribe", "eval", "evalsha", "eval_ro", "evalsha_ro", "script", "fcall", "fcall_ro", "function", "monitor", "reset",
        "auth", "hello", "quit", "client", "cluster", "save", "bgsave", "shutdown", "bzpopmin", "bzpopmax", "blpop", "brpop",
        "brpoplpush", "blmove",
    };

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("EVAL", -3, ScriptFlags, 0, 0, 0, "scripting", "2.6.0", "Executes a server-side Lua script.", static c => Eval(c, bySha: false, readOnly: false)) { KeyCountAt = 2 },
        new("EVALSHA", -3, ScriptFlags, 0, 0, 0, "scripting", "2.6.0", "Executes a server-side Lua script by SHA1 digest.", static c => Eval(c, bySha: true, readOnly: false)) { KeyCountAt = 2 },
        new("EVAL_RO", -3, ScriptFlags, 0, 0, 0, "scripting", "7.0.0", "Executes a read-only server-side Lua script.", static c => Eval(c, bySha: false, readOnly: true)) { KeyCountAt = 2 },
        new("EVALSHA_RO", -3, ScriptFlags, 0, 0, 0, "scripting", "7.0.0", "Executes a read-only server-side Lua script by SHA1 digest.", static c => Eval(c, bySha: true, readOnly: true)) { KeyCountAt = 2 },
        new("SCRIPT", -2, CommandFlags.None, 0, 0, 0, "scripting", "2.6.0", "A container for Lua scripts management commands.", Script),
    ];

    /// <summary>What other clients may still send while a script runs past lua-time-limit (Redis's allow-busy commands).</summary>
    public static bool AllowedWhileBusy(CommandDefinition command, CommandContext context) => command.LowerName switch
    {
        "auth" or "hello" or "quit" or "reset" or "multi" or "discard" or "shutdown" => true,
        "script" => context.ArgumentCount > 1 && context.ArgumentIs(1, "KILL"),
        "function" => context.ArgumentCount > 1 && (context.ArgumentIs(1, "KILL") || context.ArgumentIs(1, "STATS")),
        _ => false,
    };

    /// <summary>Commands a script may not call (Redis's noscript flag).</summary>
    public static bool NotAllowedInScripts(CommandDefinition command) => NoScript.Contains(command.LowerName);

    private static ValueTask Eval(CommandContext context, bool bySha, bool readOnly)
    {
        (byte[][] keys, byte[][] argv, string? error) = ParseKeysAndArguments(context);
        if (error is not null)
        {
            return context.Error(error);
        }

        ScriptRunner runner = context.Server.Scripts;
        string sha;
        byte[] body;
        if (bySha)
        {
            sha = context.ArgumentString(1).ToLowerInvariant();
            if (!runner.Cache.TryGet(sha, out body))
            {
                return context.Error("NOSCRIPT No matching script. Please use EVAL.");
            }
        }
        else
        {
            body = context.OwnedArgument(1);
            sha = ScriptSha.Of(body);
        }

        if (ScriptShebang.Parse(body) is { Error: { } shebangError })
        {
            return context.Error(shebangError);
        }

        if (runner.IsBusy)
        {
            return context.Error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
        }

        ScriptShebang shebang = ScriptShebang.Parse(body);
        bool scriptReadOnly = readOnly || shebang.NoWrites;
        RespServer server = context.Server;
        ClientSession caller = context.Client;
        return RunOnScriptThreadAsync(context, writer =>
        {
            if (runner.Compile(sha, shebang.Body) is { } compileError)
            {
                writer.WriteError(compileError);
                return;
            }

            runner.Cache.TryAdd(sha, body);
            using var host = new ScriptCommandHost(server, caller, scriptReadOnly, runner.Logger, keys, allowOom: shebang.AllowOom);
            host.RunStaged(writer, scriptWriter => runner.Run(sha, keys, argv, host, scriptWriter));
        });
    }

    /// <summary>
    /// EVAL's and FCALL's <c>numkeys key ... arg ...</c> from argument 2 on; an error when they do not parse or, on a
    /// cluster node, when the keys span slots.
    /// </summary>
    internal static (byte[][] Keys, byte[][] Arguments, string? Error) ParseKeysAndArguments(CommandContext context, string badKeyCount = RespErrors.NotInteger)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(2), out long keyCount))
        {
            return ([], [], badKeyCount);
        }

        if (keyCount < 0)
        {
            return ([], [], "ERR Number of keys can't be negative");
        }

        if (keyCount > context.ArgumentCount - 3)
        {
            return ([], [], "ERR Number of keys can't be greater than number of args");
        }

        byte[][] keys = [.. Enumerable.Range(3, (int)keyCount).Select(context.OwnedArgument)];
        byte[][] argv = [.. Enumerable.Range(3 + (int)keyCount, context.ArgumentCount - 3 - (int)keyCount).Select(context.OwnedArgument)];
        if (context.Store is IVersionedKeyValueStore && !HashSlot.AllInOne(keys))
        {
            return ([], [], RespErrors.CrossSlot);
        }

        return (keys, argv, null);
    }

    private static ValueTask Script(CommandContext context)
    {
        ScriptRunner runner = context.Server.Scripts;
        string sub = context.ArgumentString(1).ToUpperInvariant();
        switch (sub)
        {
            case "LOAD" when context.ArgumentCount == 3:
                return Load(context, runner, context.OwnedArgument(2));
            case "EXISTS" when context.ArgumentCount >= 3:
                context.Writer.WriteArrayHeader(context.ArgumentCount - 2);
                for (int i = 2; i < context.ArgumentCount; i++)
                {
                    context.Writer.WriteInteger(runner.Cache.Contains(context.ArgumentString(i).ToLowerInvariant()) ? 1 : 0);
                }

                return ValueTask.CompletedTask;
            case "FLUSH" when context.ArgumentCount == 2 || (context.ArgumentCount == 3 && (context.ArgumentIs(2, "ASYNC") || context.ArgumentIs(2, "SYNC"))):
                return RunOnScriptThreadAsync(context, writer =>
                {
                    runner.Flush();
                    writer.WriteOk();
                });
            case "FLUSH":
                return context.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
            case "KILL" when context.ArgumentCount == 2:
                return KillWhenBusyAsync(context, function: false);
            case "HELP" when context.ArgumentCount == 2:
                return context.Help(HelpLines);
            case "LOAD" or "EXISTS" or "KILL" or "HELP":
                return context.WrongArgumentCount("script|" + sub.ToLowerInvariant());
            default:
                return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "SCRIPT"));
        }
    }

    /// <summary>SCRIPT LOAD: compiled on the script thread; cached and answered with its SHA1 only if it compiles.</summary>
    private static ValueTask Load(CommandContext context, ScriptRunner runner, byte[] body)
    {
        ScriptShebang shebang = ScriptShebang.Parse(body);
        if (shebang.Error is { } shebangError)
        {
            return context.Error(shebangError);
        }

        string sha = ScriptSha.Of(body);
        return RunOnScriptThreadAsync(context, writer =>
        {
            if (runner.Compile(sha, shebang.Body) is { } error)
            {
                writer.WriteError(error);
            }
            else if (!runner.Cache.TryAdd(sha, body))
            {
                writer.WriteError($"ERR the script cache is full ({ScriptCache.MaxScripts} scripts or {ScriptCache.MaxBytes} bytes): SCRIPT FLUSH first");
            }
            else
            {
                writer.WriteBulk(Encoding.ASCII.GetBytes(sha));
            }
        });
    }

    /// <summary>
    /// SCRIPT KILL and FUNCTION KILL as redis-server serves them: once the running script is busy (past lua-time-limit),
    /// since redis-server reads no other command before then. One sent earlier waits for that (or for the script's end,
    /// then NOTBUSY), so a script is never killed in the moment between its start and its first write.
    /// </summary>
    internal static async ValueTask KillWhenBusyAsync(CommandContext context, bool function)
    {
        ScriptRunner runner = context.Server.Scripts;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        TimeSpan longest = runner.BusyThreshold + TimeSpan.FromSeconds(1);
        while (runner.IsRunning && !runner.IsBusy && System.Diagnostics.Stopwatch.GetElapsedTime(started) < longest)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), context.Server.Clock, context.Client.Closed);
            }
            catch (OperationCanceledException)
            {
                // The connection closed: nobody reads the reply.
                return;
            }
        }

        if (runner.Kill(function) is { } refusal)
        {
            context.Writer.WriteError(refusal);
            return;
        }

        context.Writer.WriteOk();
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the node's script thread (everything that touches the Lua state does), which
    /// writes its reply into a writer of its own in the client's protocol; the reply is copied to the client once done.
    /// Refused at once when the script queue is full.
    /// </summary>
    internal static ValueTask RunOnScriptThreadAsync(CommandContext context, Action<RespWriter> work)
    {
        var reply = new ReplyBuffer();
        var writer = new RespWriter { ProtocolVersion = context.Client.ProtocolVersion };
        writer.Attach(reply);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!context.Server.Scripts.TryQueue(() =>
        {
            try
            {
                work(writer);
            }
            finally
            {
                done.SetResult();
            }
        }))
        {
            reply.Dispose();
            return context.Error($"ERR too many scripts waiting to run ({ScriptRunner.MaxQueued}); try again");
        }

        return ReplyWhenDoneAsync(context, done.Task, reply);

        static async ValueTask ReplyWhenDoneAsync(CommandContext context, Task done, ReplyBuffer reply)
        {
            // Bounded: the runner stops any script at its MaxRunTime, and the queue ahead of it is bounded.
            await done;
            context.Writer.WriteRaw(reply.WrittenSpan);
            reply.Dispose();
        }
    }
}
