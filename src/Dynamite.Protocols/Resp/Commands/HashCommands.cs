using Dynamite.Core.DataTypes;
using Dynamite.Protocols.Resp.Commands.HashOperations;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// Hash commands, with redis-server's replies and errors. Each is one atomic storage operation over the key's header
/// and the fields it names (<see cref="TypedKey"/> describes the stored form). On a cluster node a write runs as a delta
/// built on a primary of the key and a read as a quorum read of the fields it names (docs/DATA-TYPES.md).
/// </summary>
internal static class HashCommands
{
    private const CommandFlags WriteFlags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
    private const CommandFlags ReadFlags = CommandFlags.ReadOnly | CommandFlags.Fast;
    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("HSET", -4, WriteFlags, 1, 1, 1, "hash", "2.0.0", "Creates or modifies the value of a field in a hash.", HSet),
        new("HMSET", -4, WriteFlags, 1, 1, 1, "hash", "2.0.0", "Sets the values of multiple fields.", HMSet),
        new("HSETNX", 4, WriteFlags, 1, 1, 1, "hash", "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist.", HSetNx),
        new("HGET", 3, ReadFlags, 1, 1, 1, "hash", "2.0.0", "Returns the value of a field in a hash.", HGet),
        new("HMGET", -3, ReadFlags, 1, 1, 1, "hash", "2.0.0", "Returns the values of all fields in a hash.", HMGet),
        new("HGETALL", 2, CommandFlags.ReadOnly, 1, 1, 1, "hash", "2.0.0", "Returns all fields and values in a hash.", HGetAll),
        new("HDEL", -3, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, "hash", "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", HDel),
        new("HEXISTS", 3, ReadFlags, 1, 1, 1, "hash", "2.0.0", "Determines whether a field exists in a hash.", HExists),
        new("HLEN", 2, ReadFlags, 1, 1, 1, "hash", "2.0.0", "Returns the number of fields in a hash.", HLen),
        new("HKEYS", 2, CommandFlags.ReadOnly, 1, 1, 1, "hash", "2.0.0", "Returns all fields in a hash.", HKeys),
        new("HVALS", 2, CommandFlags.ReadOnly, 1, 1, 1, "hash", "2.0.0", "Returns all values in a hash.", HVals),
        new("HSTRLEN", 3, ReadFlags, 1, 1, 1, "hash", "3.2.0", "Returns the length of the value of a field.", HStrLen),
        new("HINCRBY", 4, WriteFlags, 1, 1, 1, "hash", "2.0.0", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", HIncrBy),
        new("HINCRBYFLOAT", 4, WriteFlags, 1, 1, 1, "hash", "2.6.0", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", HIncrByFloat),
        new("HRANDFIELD", -2, CommandFlags.ReadOnly, 1, 1, 1, "hash", "6.2.0", "Returns one or more random fields from a hash.", HashIterationCommands.HRandField),
        new("HSCAN", -3, CommandFlags.ReadOnly, 1, 1, 1, "hash", "2.8.0", "Iterates over fields and values of a hash.", HashIterationCommands.HScan),
    ];

    private static ValueTask HSet(CommandContext context) => SetFields(context, ElementWriteMode.Set, okReply: false);

    private static ValueTask HMSet(CommandContext context) => SetFields(context, ElementWriteMode.Set, okReply: true);

    private static ValueTask HSetNx(CommandContext context) => SetFields(context, ElementWriteMode.SetIfAbsent, okReply: false);

    private static ValueTask SetFields(CommandContext context, ElementWriteMode mode, bool okReply)
    {
        if (context.ArgumentCount % 2 != 0)
        {
            return context.WrongArgumentCount(context.Command.LowerName);
        }

        int pairs = (context.ArgumentCount - 2) / 2;
        for (int i = 0; i < pairs; i++)
        {
            if (context.Request[3 + (2 * i)].Length > context.Server.Options.Limits.MaxValueBytes)
            {
                return context.Error(RespErrors.ValueTooLarge);
            }
        }

        var fields = new byte[pairs][];
        var values = new byte[pairs][];
        for (int i = 0; i < pairs; i++)
        {
            fields[i] = context.OwnedArgument(2 + (2 * i));
            values[i] = context.OwnedArgument(3 + (2 * i));
        }

        var operation = new ElementWriteOperation(context.OwnedArgument(1), DataType.Hash, fields, values, mode, context.Server.Actor);
        return okReply
            ? TypedKeyCommands.Apply(context, operation, static (c, _) => c.Writer.WriteOk())
            : TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Changed));
    }

    private static ValueTask HDel(CommandContext context)
    {
        var operation = new ElementWriteOperation(context.OwnedArgument(1), DataType.Hash, TypedKeyCommands.OwnedArguments(context, 2), null, ElementWriteMode.Delete, context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Changed));
    }

    private static ValueTask HGet(CommandContext context) =>
        ReadFields(context, static (c, op) =>
        {
            if (op.Values.Count == 0 || op.Values[0] is not { } value)
            {
                c.Writer.WriteNull();
            }
            else
            {
                c.Writer.WriteBulk(value);
            }
        });

    private static ValueTask HMGet(CommandContext context) =>
        ReadFields(context, static (c, op) =>
        {
            int count = c.ArgumentCount - 2;
            c.Writer.WriteArrayHeader(count);
            for (int i = 0; i < count; i++)
            {
                if (i < op.Values.Count && op.Values[i] is { } value)
                {
                    c.Writer.WriteBulk(value);
                }
                else
                {
                    c.Writer.WriteNull();
                }
            }
        });

    private static ValueTask HExists(CommandContext context) =>
        ReadFields(context, static (c, op) => c.Writer.WriteInteger(op.Values.Count > 0 && op.Values[0] is not null ? 1 : 0));

    private static ValueTask HStrLen(CommandContext context) =>
        ReadFields(context, static (c, op) => c.Writer.WriteInteger(op.Values.Count > 0 && op.Values[0] is { } value ? value.Length : 0));

    /// <summary>The fields named from argument 2 on; the reply runs only when the key is a hash or absent.</summary>
    private static ValueTask ReadFields(CommandContext context, Action<CommandContext, ElementReadOperation> reply) =>
        TypedKeyCommands.Apply(context, new ElementReadOperation(context.OwnedArgument(1), DataType.Hash, ElementReadMode.Named, HashKey.RenderEncoded, TypedKeyCommands.OwnedArguments(context, 2)), reply);

    private static ValueTask HLen(CommandContext context) =>
        TypedKeyCommands.Apply(context, new ElementReadOperation(context.OwnedArgument(1), DataType.Hash, ElementReadMode.Length, null), static (c, op) => c.Writer.WriteInteger(op.Length));

    private static ValueTask HGetAll(CommandContext context) =>
        ReadAll(context, static (c, op) =>
        {
            c.Writer.WriteMapHeader(op.ElementNames.Count);
            for (int i = 0; i < op.ElementNames.Count; i++)
            {
                c.Writer.WriteBulk(op.ElementNames[i]);
                c.Writer.WriteBulk(op.Values[i]!);
            }
        });

    private static ValueTask HKeys(CommandContext context) =>
        ReadAll(context, static (c, op) =>
        {
            c.Writer.WriteArrayHeader(op.ElementNames.Count);
            foreach (byte[] name in op.ElementNames)
            {
                c.Writer.WriteBulk(name);
            }
        });

    private static ValueTask HVals(CommandContext context) =>
        ReadAll(context, static (c, op) =>
        {
            c.Writer.WriteArrayHeader(op.Values.Count);
            foreach (byte[]? value in op.Values)
            {
                c.Writer.WriteBulk(value!);
            }
        });

    private static ValueTask ReadAll(CommandContext context, Action<CommandContext, ElementReadOperation> reply) =>
        TypedKeyCommands.Apply(context, new ElementReadOperation(context.OwnedArgument(1), DataType.Hash, ElementReadMode.All, HashKey.RenderEncoded), reply);

    private static ValueTask HIncrBy(CommandContext context)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(3), out long delta))
        {
            return context.Error(RespErrors.NotInteger);
        }

        var operation = new HashIncrementOperation(context.OwnedArgument(1), context.OwnedArgument(2), delta, null, context.Server.Actor);
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

    private static ValueTask HIncrByFloat(CommandContext context)
    {
        if (!ExtendedFloat.TryParse(context.Argument(3), out ExtendedFloat delta))
        {
            return context.Error(RespErrors.NotFloat);
        }

        if (delta.IsInfinity)
        {
            return context.Error("ERR value is NaN or Infinity");
        }

        var operation = new HashIncrementOperation(context.OwnedArgument(1), context.OwnedArgument(2), 0, delta, context.Server.Actor);
        return context.Apply(operation, static (c, op) =>
        {
            if (op.Error is not null)
            {
                c.Writer.WriteError(op.Error);
            }
            else
            {
                c.Writer.WriteBulk(op.FloatResult!);
            }
        });
    }
}
