using System.Text;
using Dynamite.Protocols.Resp.Scripting;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// FUNCTION LOAD/LIST/DELETE/FLUSH/DUMP/RESTORE/STATS/KILL/HELP, FCALL and FCALL_RO, as redis-server 7.0 answers them:
/// a library (<c>#!lua name=lib</c>) registers functions with <c>redis.register_function</c> when loaded; FCALL runs
/// one on the node's script thread, like EVAL (<see cref="ScriptCommands"/>). Libraries live on the node that loaded
/// them (as in Redis Cluster, where each node's functions are its own): load them through every node, or RESTORE a
/// DUMP there. DUMP's payload is this server's own format (a version, the libraries' code and a checksum).
/// </summary>
internal static class FunctionCommands
{
    private static readonly IReadOnlyList<string> HelpLines =
    [
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    ];

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("FUNCTION", -2, CommandFlags.None, 0, 0, 0, "scripting", "7.0.0", "A container for function commands.", Function),
        new("FCALL", -3, CommandFlags.Stale, 0, 0, 0, "scripting", "7.0.0", "Invokes a function.", static c => Call(c, readOnly: false)) { KeyCountAt = 2 },
        new("FCALL_RO", -3, CommandFlags.Stale, 0, 0, 0, "scripting", "7.0.0", "Invokes a read-only function.", static c => Call(c, readOnly: true)) { KeyCountAt = 2 },
    ];

    private static ValueTask Call(CommandContext context, bool readOnly)
    {
        // As redis-server: an unknown function is reported before the key count is read.
        ScriptRunner runner = context.Server.Scripts;
        string name = context.ArgumentString(1);
        if (runner.Functions.LibraryOf(name) is not { } library)
        {
            return context.Error("ERR Function not found");
        }

        (byte[][] keys, byte[][] argv, string? error) = ScriptCommands.ParseKeysAndArguments(context, "ERR Bad number of keys provided");
        if (error is not null)
        {
            return context.Error(error);
        }

        // The name as the library registered it: FCALL finds functions case-insensitively, as redis-server does.
        var function = library.Functions.First(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
        name = function.Name;
        bool noWrites = function.NoWrites;
        if (readOnly && !noWrites)
        {
            return context.Error("ERR Can not execute a script with write flag using *_ro command.");
        }

        if (runner.IsBusy)
        {
            return context.Error("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.");
        }

        RespServer server = context.Server;
        ClientSession caller = context.Client;
        string command = string.Join(' ', Enumerable.Range(0, context.ArgumentCount).Select(context.ArgumentString));
        return ScriptCommands.RunOnScriptThreadAsync(context, writer =>
        {
            using var host = new ScriptCommandHost(server, caller, readOnly || noWrites, runner.Logger, keys, allowOom: function.Flags.Contains("allow-oom"));
            host.RunStaged(writer, functionWriter =>
            {
                if (!runner.Call(name, command, keys, argv, host, functionWriter))
                {
                    functionWriter.WriteError("ERR Function not found");
                }
            });
        });
    }

    private static ValueTask Function(CommandContext context)
    {
        ScriptRunner runner = context.Server.Scripts;
        string sub = context.ArgumentString(1).ToUpperInvariant();
        int count = context.ArgumentCount;
        switch (sub)
        {
            case "LOAD" when count >= 3:
            {
                // Options come before the code, the last argument, as redis-server parses them.
                bool replace = false;
                for (int option = 2; option < count - 1; option++)
                {
                    if (!context.ArgumentIs(option, "REPLACE"))
                    {
                        return context.Error($"ERR Unknown option given: {context.ArgumentString(option)}");
                    }

                    replace = true;
                }

                byte[] code = context.OwnedArgument(count - 1);
                return ScriptCommands.RunOnScriptThreadAsync(context, writer =>
                {
                    (string? name, string? error) = runner.LoadLibrary(code, replace);
                    if (error is not null)
                    {
                        writer.WriteError(error);
                    }
                    else
                    {
                        writer.WriteBulk(Encoding.UTF8.GetBytes(name!));
                    }
                });
            }

            case "DELETE" when count == 3:
            {
                string name = context.ArgumentString(2);
                return ScriptCommands.RunOnScriptThreadAsync(context, writer =>
                {
                    if (runner.DeleteLibrary(name))
                    {
                        writer.WriteOk();
                    }
                    else
                    {
                        writer.WriteError("ERR Library not found");
                    }
                });
            }

            case "FLUSH" when count == 2 || (count == 3 && (context.ArgumentIs(2, "ASYNC") || context.ArgumentIs(2, "SYNC"))):
                return ScriptCommands.RunOnScriptThreadAsync(context, writer =>
                {
                    runner.FlushFunctions();
                    writer.WriteOk();
                });
            case "FLUSH" when count > 3:
                return context.Error(RespErrors.SubcommandSyntax(context.ArgumentString(1), "FUNCTION"));
            case "FLUSH" when count == 3:
                return context.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
            case "LIST":
                return List(context, runner);
            case "DUMP" when count == 2:
                context.Writer.WriteBulk(runner.Functions.Dump());
                return ValueTask.CompletedTask;
            case "RESTORE" when count is 3 or 4:
                return Restore(context, runner);
            case "RESTORE" when count > 4:
                return context.Error(RespErrors.SubcommandSyntax(context.ArgumentString(1), "FUNCTION"));
            case "STATS" when count == 2:
                return Stats(context, runner);
            case "KILL" when count == 2:
                return ScriptCommands.KillWhenBusyAsync(context, function: true);
            case "HELP" when count == 2:
                return context.Help(HelpLines);
            default:
                return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "FUNCTION"));
        }
    }

    /// <summary>FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE].</summary>
    private static ValueTask List(CommandContext context, ScriptRunner runner)
    {
        byte[]? pattern = null;
        bool withCode = false;
        for (int i = 2; i < context.ArgumentCount; i++)
        {
            if (context.ArgumentIs(i, "WITHCODE") && !withCode)
            {
                withCode = true;
            }
            else if (context.ArgumentIs(i, "LIBRARYNAME") && pattern is null)
            {
                if (i + 1 >= context.ArgumentCount)
                {
                    return context.Error("ERR library name argument was not given");
                }

                pattern = context.OwnedArgument(++i);
            }
            else
            {
                return context.Error($"ERR Unknown argument {context.ArgumentString(i)}");
            }
        }

        IReadOnlyList<FunctionLibrary> libraries = [.. runner.Functions.Snapshot().Where(l => pattern is null || GlobPattern.IsMatch(pattern, Encoding.UTF8.GetBytes(l.Name)))];
        RespWriter writer = context.Writer;
        writer.WriteArrayHeader(libraries.Count);
        foreach (FunctionLibrary library in libraries)
        {
            writer.WriteMapHeader(withCode ? 4 : 3);
            writer.WriteBulk("library_name"u8);
            writer.WriteBulk(library.Name);
            writer.WriteBulk("engine"u8);
            writer.WriteBulk("LUA"u8);
            writer.WriteBulk("functions"u8);
            writer.WriteArrayHeader(library.Functions.Count);
            foreach (RegisteredFunction function in library.Functions)
            {
                writer.WriteMapHeader(3);
                writer.WriteBulk("name"u8);
                writer.WriteBulk(function.Name);
                writer.WriteBulk("description"u8);
                if (function.Description is null)
                {
                    writer.WriteNull();
                }
                else
                {
                    writer.WriteBulk(function.Description);
                }

                writer.WriteBulk("flags"u8);
                writer.WriteSetHeader(function.Flags.Count);
                foreach (string flag in function.Flags)
                {
                    writer.WriteBulk(flag);
                }
            }

            if (withCode)
            {
                writer.WriteBulk("library_code"u8);
                writer.WriteBulk(library.Code);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]: all of it, or nothing when a library cannot load.</summary>
    private static ValueTask Restore(CommandContext context, ScriptRunner runner)
    {
        string policy = context.ArgumentCount == 4 ? context.ArgumentString(3).ToUpperInvariant() : "APPEND";
        if (policy is not ("FLUSH" or "APPEND" or "REPLACE"))
        {
            return context.Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
        }

        if (FunctionLibraries.ReadDump(context.OwnedArgument(2)) is not { } codes)
        {
            return context.Error("ERR payload version or checksum are wrong");
        }

        return ScriptCommands.RunOnScriptThreadAsync(context, writer =>
        {
            IReadOnlyList<FunctionLibrary> before = runner.Functions.Snapshot();
            if (policy == "FLUSH")
            {
                runner.FlushFunctions();
            }

            foreach (byte[] code in codes)
            {
                if (runner.LoadLibrary(code, replace: policy != "APPEND", restoring: true).Error is { } failure)
                {
                    // All or nothing: put back what was there.
                    runner.FlushFunctions();
                    foreach (FunctionLibrary library in before)
                    {
                        runner.LoadLibrary(library.Code, replace: true);
                    }

                    writer.WriteError(failure);
                    return;
                }
            }

            writer.WriteOk();
        });
    }

    private static ValueTask Stats(CommandContext context, ScriptRunner runner)
    {
        RespWriter writer = context.Writer;
        writer.WriteMapHeader(2);
        writer.WriteBulk("running_script"u8);
        if (runner.Running is { } running)
        {
            writer.WriteMapHeader(3);
            writer.WriteBulk("name"u8);
            writer.WriteBulk(running.Name);
            writer.WriteBulk("command"u8);
            string[] words = running.Command.Split(' ');
            writer.WriteArrayHeader(words.Length);
            foreach (string word in words)
            {
                writer.WriteBulk(word);
            }

            writer.WriteBulk("duration_ms"u8);
            writer.WriteInteger((long)running.Duration.TotalMilliseconds);
        }
        else
        {
            writer.WriteNull();
        }

        writer.WriteBulk("engines"u8);
        writer.WriteMapHeader(1);
        writer.WriteBulk("LUA"u8);
        writer.WriteMapHeader(2);
        writer.WriteBulk("libraries_count"u8);
        writer.WriteInteger(runner.Functions.Snapshot().Count);
        writer.WriteBulk("functions_count"u8);
        writer.WriteInteger(runner.Functions.FunctionCount);
        return ValueTask.CompletedTask;
    }
}
