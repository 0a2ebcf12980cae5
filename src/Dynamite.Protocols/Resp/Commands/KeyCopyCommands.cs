using Dynamite.Protocols.Resp.Commands.KeyOperations;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// RENAME, RENAMENX and COPY, with redis-server's replies and errors: one atomic operation on a standalone node
/// (<see cref="KeyCopyOperation"/>), single-key steps on a cluster node, where the two keys live in different
/// partitions (<see cref="KeyCopySteps"/>).
/// </summary>
internal static class KeyCopyCommands
{
    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("RENAME", 3, CommandFlags.Write, 1, 2, 1, "generic", "1.0.0", "Renames a key and overwrites the destination.", Rename),
        new("RENAMENX", 3, CommandFlags.Write | CommandFlags.Fast, 1, 2, 1, "generic", "1.0.0", "Renames a key only when the target key name doesn't exist.", RenameIfAbsent),
        new("COPY", -3, CommandFlags.Write | CommandFlags.DenyOom, 1, 2, 1, "generic", "6.2.0", "Copies the value of a key to a new key.", Copy),
    ];

    private static ValueTask Rename(CommandContext context) =>
        Run(context, KeyCopyMode.Rename, static (c, op) =>
        {
            if (op.Outcome == KeyCopyOutcome.NoSource)
            {
                c.Writer.WriteError(RespErrors.NoSuchKey);
            }
            else
            {
                c.Writer.WriteSimpleString("OK");
            }
        });

    private static ValueTask RenameIfAbsent(CommandContext context) =>
        Run(context, KeyCopyMode.RenameIfAbsent, static (c, op) =>
        {
            if (op.Outcome == KeyCopyOutcome.NoSource)
            {
                c.Writer.WriteError(RespErrors.NoSuchKey);
            }
            else
            {
                c.Writer.WriteInteger(op.Outcome == KeyCopyOutcome.Done ? 1 : 0);
            }
        });

    /// <summary>COPY source destination [DB destination-db] [REPLACE], with redis-server's checks in its order.</summary>
    private static ValueTask Copy(CommandContext context)
    {
        bool replace = false;
        for (int i = 3; i < context.ArgumentCount; i++)
        {
            if (context.ArgumentIs(i, "REPLACE"))
            {
                replace = true;
            }
            else if (context.ArgumentIs(i, "DB") && i + 1 < context.ArgumentCount)
            {
                i++;
                if (!RespNumbers.TryParseInt64(context.Argument(i), out long database))
                {
                    return context.Error(RespErrors.NotInteger);
                }

                if (database != 0)
                {
                    return context.Error(RespErrors.DbIndexOutOfRange);
                }
            }
            else
            {
                return context.SyntaxError();
            }
        }

        if (context.Argument(1).SequenceEqual(context.Argument(2)))
        {
            return context.Error("ERR source and destination objects are the same");
        }

        return Run(context, replace ? KeyCopyMode.CopyReplacing : KeyCopyMode.Copy, static (c, op) => c.Writer.WriteInteger(op.Outcome == KeyCopyOutcome.Done ? 1 : 0));
    }

    private static ValueTask Run(CommandContext context, KeyCopyMode mode, Action<CommandContext, KeyCopySteps> reply) =>
        context.Apply(new KeyCopySteps(context.OwnedArgument(1), context.OwnedArgument(2), mode, context.Server.Actor), reply);
}
