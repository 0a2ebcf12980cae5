using System.Diagnostics;
using Dynamite.Protocols.Resp.Blocking;
using Dynamite.Protocols.Resp.Commands.SortedSetOperations;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// BZPOPMIN, BZPOPMAX and BZMPOP: ZPOPMIN, ZPOPMAX and ZMPOP that wait, up to their timeout (0: until the connection
/// closes), for a member to pop. The client registers on its keys (<see cref="BlockedClients"/>) before its first try,
/// and every commit that changes one of them, from any writer or node, makes it try again. Inside EXEC or a script
/// they never block: they answer at once, null when nothing was there, as redis-server does. When several clients wait
/// on one key, each retries and the pops decide who gets what (Redis serves them in the order they blocked).
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

    /// <summary>
    /// A blocking command's timeout in seconds, as redis-server's <c>getTimeoutFromObjectOrReply</c> reads it; null
    /// with <paramref name="error"/> when it is not one. Zero is <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </summary>
    public static TimeSpan? ParseTimeout(ReadOnlySpan<byte> text, out string? error)
    {
        error = null;
        if (!SortedSetScore.TryParse(text, out double seconds) || double.IsInfinity(seconds))
        {
            error = "ERR timeout is not a float or out of range";
            return null;
        }

        double milliseconds = Math.Ceiling(seconds * 1000);
        if (milliseconds < 0)
        {
            error = "ERR timeout is negative";
            return null;
        }

        if (milliseconds > int.MaxValue)
        {
            // Task timers take at most about 24.8 days; a longer wait is no different from waiting for the connection.
            return Timeout.InfiniteTimeSpan;
        }

        return milliseconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(milliseconds);
    }

    private static ValueTask BZPop(CommandContext context, bool highest)
    {
        if (ParseTimeout(context.Argument(context.ArgumentCount - 1), out string? error) is not { } timeout)
        {
            return context.Error(error!);
        }

        byte[][] keys = TypedKeyCommands.OwnedArguments(context, 1, context.ArgumentCount - 1);
        return BlockAsync(context, keys, highest, 1, timeout, static (c, op) =>
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
        if (ParseTimeout(context.Argument(1), out string? error) is not { } timeout)
        {
            return context.Error(error!);
        }

        if (!RespNumbers.TryParseInt64(context.Argument(2), out long keyCount) || keyCount < 1)
        {
            return context.Error("ERR numkeys should be greater than 0");
        }

        long whereAt = 3 + keyCount;
        if (whereAt >= context.ArgumentCount)
        {
            return context.SyntaxError();
        }

        bool highest;
        if (context.ArgumentIs((int)whereAt, "MIN"))
        {
            highest = false;
        }
        else if (context.ArgumentIs((int)whereAt, "MAX"))
        {
            highest = true;
        }
        else
        {
            return context.SyntaxError();
        }

        long count = -1;
        for (int j = (int)whereAt + 1; j < context.ArgumentCount; j++)
        {
            if (count == -1 && context.ArgumentIs(j, "COUNT") && j + 1 < context.ArgumentCount)
            {
                j++;
                if (!RespNumbers.TryParseInt64(context.Argument(j), out count) || count < 1)
                {
                    return context.Error("ERR count should be greater than 0");
                }
            }
            else
            {
                return context.SyntaxError();
            }
        }

        byte[][] keys = TypedKeyCommands.OwnedArguments(context, 3, (int)whereAt);
        return BlockAsync(context, keys, highest, Math.Max(count, 1), timeout, static (c, op) =>
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

    /// <summary>Pops from the first key with members, waiting for one up to <paramref name="timeout"/>; a null array when the time runs out.</summary>
    private static async ValueTask BlockAsync(CommandContext context, byte[][] keys, bool highest, long count, TimeSpan timeout, Action<CommandContext, SortedSetMultiPopSteps> reply)
    {
        ClientSession client = context.Client;
        bool mayBlock = !client.IsScript && !client.InExec;
        using KeyWait? wait = mayBlock ? context.Server.BlockedClients.Register(keys) : null;
        long started = Stopwatch.GetTimestamp();
        for (bool first = true; ; first = false)
        {
            var pop = new SortedSetMultiPopSteps(keys, highest, count, context.Server.Actor);
            try
            {
                await context.Store.ExecuteAsync(pop, client.Consistency);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                context.Writer.WriteError(CommandContext.StorageFailure(exception));
                return;
            }

            if (pop.WrongType && first)
            {
                context.Writer.WriteError(RespErrors.WrongType);
                return;
            }

            // A key that became another type while the client waited is passed over, as Redis serves only a sorted set.
            if (pop.PoppedKey is not null && !pop.WrongType)
            {
                reply(context, pop);
                return;
            }

            TimeSpan remaining = timeout == Timeout.InfiniteTimeSpan ? timeout : timeout - Stopwatch.GetElapsedTime(started);
            if (wait is null || (timeout != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero))
            {
                context.Writer.WriteNullArray();
                return;
            }

            try
            {
                if (!await wait.WaitAsync(remaining, client.Closed))
                {
                    context.Writer.WriteNullArray();
                    return;
                }
            }
            catch (OperationCanceledException) when (client.Closed.IsCancellationRequested)
            {
                // The connection closed while blocked: nobody reads a reply.
                return;
            }
        }
    }
}
