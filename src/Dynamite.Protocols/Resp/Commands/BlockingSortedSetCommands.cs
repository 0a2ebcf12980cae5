using Dynamite.Protocols.Resp.Commands.SortedSetOperations;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// BZPOPMIN, BZPOPMAX and BZMPOP: ZPOPMIN, ZPOPMAX and ZMPOP that wait, up to their timeout (0: until the connection
/// closes), for a member to pop (<see cref="BlockingWait"/>).
/// </summary>
internal static class BlockingSortedSetCommands
{
    private const string Group = "sorted-set";

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("BZPOPMIN", -3, CommandFlags.Write | CommandFlags.Fast, 1, -2, 1, Group, "5.0.0", "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", static c => BZPop(c, highest: false)),
        new("BZPOPMAX", -3, CommandFlags.Write | CommandFlags.Fast, 1, -2, 1, Group, "5.0.0", "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise. Deletes the sorted set if the last element was popped.", static c => BZPop(c, highest: true)),
        new("BZMPOP", -5, CommandFlags.Write, 0, 0, 0, Group, "7.0.0", "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", BZMPop) { KeyCountAt = 2 },
    ];

    private static ValueTask BZPop(CommandContext context, bool highest)
    {
        if (BlockingWait.ParseTimeout(context.Argument(context.ArgumentCount - 1), out string? error) is not { } timeout)
        {
            return context.Error(error!);
        }

        byte[][] keys = TypedKeyCommands.OwnedArguments(context, 1, context.ArgumentCount - 1);
        return BlockingWait.BlockAsync(context, keys, () => SortedSetTakeOperation.PopFirstOf(keys, highest, 1, context.Server.Actor), static op => op.PoppedKey is not null, timeout, static (c, op) =>
        {
            // The key, the member and its score, flat in both protocols.
            c.Writer.WriteArrayHeader(3);
            c.Writer.WriteBulk(op.PoppedKey!);
            c.Writer.WriteBulk(op.Popped[0].Member);
            SortedSetScore.Write(c.Writer, op.Popped[0].Score);
        });
    }

    private static ValueTask BZMPop(CommandContext context)
    {
        if (BlockingWait.ParseTimeout(context.Argument(1), out string? error) is not { } timeout)
        {
            return context.Error(error!);
        }

        if (MultiPopArguments.Parse(context, 2, "MIN", "MAX", out byte[][] keys, out bool lowest, out long popCount) is { } parseError)
        {
            return context.Error(parseError);
        }

        bool highest = !lowest;
        return BlockingWait.BlockAsync(context, keys, () => SortedSetTakeOperation.PopFirstOf(keys, highest, popCount, context.Server.Actor), static op => op.PoppedKey is not null, timeout, static (c, op) =>
        {
            c.Writer.WriteArrayHeader(2);
            c.Writer.WriteBulk(op.PoppedKey!);
            c.Writer.WriteArrayHeader(op.Popped.Count);
            foreach (ScoredMember member in op.Popped)
            {
                c.Writer.WriteArrayHeader(2);
                c.Writer.WriteBulk(member.Member);
                SortedSetScore.Write(c.Writer, member.Score);
            }
        });
    }
}
