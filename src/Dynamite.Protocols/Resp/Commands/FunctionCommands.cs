namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// FUNCTION, FCALL and FCALL_RO as a server with no function libraries answers them. Dynamite has no function engine
/// yet (issue 15 brings scripts), but clients and test harnesses send <c>FUNCTION FLUSH</c> beside <c>FLUSHALL</c> to
/// start clean, and read <c>FUNCTION LIST</c>/<c>STATS</c>: those answer truthfully (nothing to flush, nothing
/// loaded). Whatever would load or restore code is refused before anything changes.
/// </summary>
internal static class FunctionCommands
{
    private const string NoFunctionEngine = "ERR this server has no function engine yet: FUNCTION LOAD, RESTORE and DUMP are not supported";

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("FUNCTION", -2, CommandFlags.None, 0, 0, 0, "scripting", "7.0.0", "A container for function commands.", Function),
        new("FCALL", -3, CommandFlags.None, 0, 0, 0, "scripting", "7.0.0", "Invokes a function.", Call),
        new("FCALL_RO", -3, CommandFlags.ReadOnly, 0, 0, 0, "scripting", "7.0.0", "Invokes a read-only function.", Call),
    ];

    private static ValueTask Function(CommandContext context)
    {
        string sub = context.ArgumentString(1).ToUpperInvariant();
        switch (sub)
        {
            case "FLUSH" when context.ArgumentCount == 2 || (context.ArgumentCount == 3 && (context.ArgumentIs(2, "ASYNC") || context.ArgumentIs(2, "SYNC"))):
                context.Writer.WriteOk();
                return ValueTask.CompletedTask;
            case "FLUSH":
                return context.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
            case "LIST":
                return List(context);
            case "STATS" when context.ArgumentCount == 2:
                context.Writer.WriteMapHeader(2);
                context.Writer.WriteBulk("running_script");
                context.Writer.WriteNull();
                context.Writer.WriteBulk("engines");
                context.Writer.WriteMapHeader(0);
                return ValueTask.CompletedTask;
            case "KILL" when context.ArgumentCount == 2:
                return context.Error("NOTBUSY No scripts in execution right now.");
            case "DELETE" when context.ArgumentCount == 3:
                return context.Error("ERR Library not found");
            case "LOAD" or "RESTORE" or "DUMP":
                return context.Error(NoFunctionEngine);
            default:
                return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "FUNCTION"));
        }
    }

    /// <summary>FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]: no libraries, so an empty list once the options parse.</summary>
    private static ValueTask List(CommandContext context)
    {
        for (int i = 2; i < context.ArgumentCount; i++)
        {
            if (context.ArgumentIs(i, "LIBRARYNAME") && i + 1 < context.ArgumentCount)
            {
                i++;
            }
            else if (!context.ArgumentIs(i, "WITHCODE"))
            {
                return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "FUNCTION"));
            }
        }

        context.Writer.WriteArrayHeader(0);
        return ValueTask.CompletedTask;
    }

    /// <summary>FCALL and FCALL_RO: no function exists, which redis-server checks before the key count.</summary>
    private static ValueTask Call(CommandContext context) => context.Error("ERR Function not found");
}
