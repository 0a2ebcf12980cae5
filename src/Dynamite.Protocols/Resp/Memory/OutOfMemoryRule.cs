using Dynamite.Protocols.Resp.Commands;
using Dynamite.Protocols.Resp.Scripting;

namespace Dynamite.Protocols.Resp.Memory;

/// <summary>
/// Which commands redis-server refuses while it is over <c>maxmemory</c> and cannot evict (its <c>processCommand</c>):
/// those that may add memory (the denyoom flag: SET, LPUSH, FUNCTION LOAD and RESTORE...), EXEC of a transaction that
/// queued one, EVAL of a script that declares flags without <c>allow-oom</c> or <c>no-writes</c>, FCALL of such a
/// function, and inside MULTI every command but EXEC, DISCARD, QUIT and RESET (queueing takes memory too). A script
/// without a shebang is let in; its own <c>redis.call</c>s of such commands are refused until it has written
/// (<see cref="ScriptCommandHost"/>).
/// </summary>
internal static class OutOfMemoryRule
{
    public const string Error = "OOM command not allowed when used memory > 'maxmemory'.";

    public static bool Refuses(CommandContext context, CommandDefinition command) =>
        context.Client.Transaction is { } transaction
            ? command.LowerName switch
            {
                "exec" => transaction.MayAddMemory,
                "discard" or "quit" or "reset" => false,
                _ => true,
            }
            : MayAddMemory(context, command);

    /// <summary>Whether a command may add memory: outside MULTI, whether it is refused; queued, whether its EXEC is.</summary>
    public static bool MayAddMemory(CommandContext context, CommandDefinition command)
    {
        if ((command.Flags & CommandFlags.DenyOom) != 0)
        {
            return true;
        }

        return command.LowerName switch
        {
            "function" => context.ArgumentCount > 1 && (context.ArgumentIs(1, "LOAD") || context.ArgumentIs(1, "RESTORE")),
            "eval" or "eval_ro" => ScriptShebang.Parse(context.OwnedArgument(1)).DeniedOnOutOfMemory,
            "evalsha" or "evalsha_ro" => context.Server.Scripts.Cache.TryGet(context.ArgumentString(1).ToLowerInvariant(), out byte[] body)
                && ScriptShebang.Parse(body).DeniedOnOutOfMemory,
            "fcall" or "fcall_ro" => FunctionDeniedOnOutOfMemory(context, context.ArgumentString(1)),
            _ => false,
        };
    }

    private static bool FunctionDeniedOnOutOfMemory(CommandContext context, string name) =>
        context.Server.Scripts.Functions.LibraryOf(name) is { } library
        && library.Functions.First(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)).DeniedOnOutOfMemory;
}
