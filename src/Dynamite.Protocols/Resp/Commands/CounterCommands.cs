using Dynamite.Protocols.Resp.Commands.StringOperations;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// The string counters: INCR, DECR, INCRBY, DECRBY and INCRBYFLOAT, each one atomic storage operation (read, add,
/// write), so two increments on one node never lose each other; the overflow and not-a-number errors are
/// redis-server's.
/// </summary>
internal static class CounterCommands
{
    private const CommandFlags WriteFlags = CommandFlags.Write | CommandFlags.DenyOom;

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("INCR", 2, WriteFlags | CommandFlags.Fast, 1, 1, 1, "string", "1.0.0", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", Incr),
        new("DECR", 2, WriteFlags | CommandFlags.Fast, 1, 1, 1, "string", "1.0.0", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", Decr),
        new("INCRBY", 3, WriteFlags | CommandFlags.Fast, 1, 1, 1, "string", "1.0.0", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", IncrBy),
        new("DECRBY", 3, WriteFlags | CommandFlags.Fast, 1, 1, 1, "string", "1.0.0", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", DecrBy),
        new("INCRBYFLOAT", 3, WriteFlags | CommandFlags.Fast, 1, 1, 1, "string", "2.6.0", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", IncrByFloat),
    ];

    private static ValueTask Incr(CommandContext context) => IncrementBy(context, 1);

    private static ValueTask Decr(CommandContext context) => IncrementBy(context, -1);

    private static ValueTask IncrBy(CommandContext context)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(2), out long delta))
        {
            return context.Error(RespErrors.NotInteger);
        }

        return IncrementBy(context, delta);
    }

    private static ValueTask DecrBy(CommandContext context)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(2), out long delta))
        {
            return context.Error(RespErrors.NotInteger);
        }

        if (delta == long.MinValue)
        {
            return context.Error(RespErrors.DecrementOverflow);
        }

        return IncrementBy(context, -delta);
    }

    private static ValueTask IncrementBy(CommandContext context, long delta)
    {
        var operation = new IncrementOperation(context.OwnedArgument(1), delta);
        return context.Apply(operation, static (c, op) =>
        {
            if (op.Error is not null)
            {
                c.Writer.WriteError(op.Error);
            }
            else
            {
                c.Writer.WriteInteger(op.Result);
            }
        });
    }

    private static ValueTask IncrByFloat(CommandContext context)
    {
        if (!ExtendedFloat.TryParse(context.Argument(2), out ExtendedFloat delta))
        {
            return context.Error(RespErrors.NotFloat);
        }

        var operation = new FloatIncrementOperation(context.OwnedArgument(1), delta);
        return context.Apply(operation, static (c, op) =>
        {
            if (op.Error is not null)
            {
                c.Writer.WriteError(op.Error);
            }
            else
            {
                c.Writer.WriteBulk(op.Result!);
            }
        });
    }
}
