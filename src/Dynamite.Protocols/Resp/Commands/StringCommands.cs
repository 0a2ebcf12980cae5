using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.StringOperations;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// String commands (the counters are <see cref="CounterCommands"/>). Reads go straight to the store; every write is
/// one atomic storage operation (<see cref="IStorageOperation"/>), so a read-modify-write such as APPEND never
/// interleaves with another write to the same key on this node.
/// </summary>
internal static class StringCommands
{
    private const CommandFlags WriteFlags = CommandFlags.Write | CommandFlags.DenyOom;
    private const CommandFlags ReadFlags = CommandFlags.ReadOnly | CommandFlags.Fast;

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("GET", 2, ReadFlags, 1, 1, 1, "string", "1.0.0", "Returns the string value of a key.", Get),
        new("SET", -3, WriteFlags, 1, 1, 1, "string", "1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", Set),
        new("SETNX", 3, WriteFlags | CommandFlags.Fast, 1, 1, 1, "string", "1.0.0", "Set the string value of a key only when the key doesn't exist.", SetNx),
        new("SETEX", 4, WriteFlags, 1, 1, 1, "string", "2.0.0", "Sets the string value and expiration time of a key.", SetEx),
        new("PSETEX", 4, WriteFlags, 1, 1, 1, "string", "2.6.0", "Sets both string value and expiration time in milliseconds of a key.", PSetEx),
        new("GETSET", 3, WriteFlags | CommandFlags.Fast, 1, 1, 1, "string", "1.0.0", "Returns the previous string value of a key after setting it to a new value.", GetSet),
        new("GETDEL", 2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, "string", "6.2.0", "Returns the string value of a key after deleting the key.", GetDel),
        new("GETEX", -2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, "string", "6.2.0", "Returns the string value of a key after setting its expiration time.", GetEx),
        new("MGET", -2, ReadFlags, 1, -1, 1, "string", "1.0.0", "Atomically returns the string values of one or more keys.", MGet),
        new("MSET", -3, WriteFlags, 1, -1, 2, "string", "1.0.1", "Atomically creates or modifies the string values of one or more keys.", MSet),
        new("MSETNX", -3, WriteFlags, 1, -1, 2, "string", "1.0.1", "Atomically modifies the string values of one or more keys only when all keys don't exist.", MSetNx),
        new("APPEND", 3, WriteFlags | CommandFlags.Fast, 1, 1, 1, "string", "2.0.0", "Appends a string to the value of a key. Creates the key if it doesn't exist.", Append),
        new("STRLEN", 2, ReadFlags, 1, 1, 1, "string", "2.2.0", "Returns the length of a string value.", StrLen),
        new("GETRANGE", 4, CommandFlags.ReadOnly, 1, 1, 1, "string", "2.4.0", "Returns a substring of the string stored at a key.", GetRange),
        new("SETRANGE", 4, WriteFlags, 1, 1, 1, "string", "2.2.0", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", SetRange),
    ];

    private static ValueTask Get(CommandContext context) =>
        context.ReadKeys(1, 1, 1, static (c, results) =>
        {
            if (results[0].Found && results[0].Record.IsTypedHeader)
            {
                c.Writer.WriteError(RespErrors.WrongType);
            }
            else
            {
                WriteValueOrNull(c, results[0]);
            }
        });

    /// <summary>A string's value, or null for an absent key and (as MGET answers) for a key of another type.</summary>
    private static void WriteValueOrNull(CommandContext context, ReadResult result)
    {
        if (result.Found && !result.Record.IsTypedHeader)
        {
            context.Client.CountHit();
            context.Writer.WriteBulk(result.Record.Value);
        }
        else
        {
            context.Client.CountMiss();
            context.Writer.WriteNull();
        }
    }

    private static ValueTask Set(CommandContext context)
    {
        var condition = SetCondition.None;
        bool returnOld = false;
        ExpirySpec expiry = ExpirySpec.Clear;
        bool expirySet = false;
        bool keepTtl = false;
        for (int i = 3; i < context.ArgumentCount; i++)
        {
            bool hasNext = i + 1 < context.ArgumentCount;
            if (context.ArgumentIs(i, "NX") && condition != SetCondition.IfExists)
            {
                condition = SetCondition.IfAbsent;
            }
            else if (context.ArgumentIs(i, "XX") && condition != SetCondition.IfAbsent)
            {
                condition = SetCondition.IfExists;
            }
            else if (context.ArgumentIs(i, "GET"))
            {
                returnOld = true;
            }
            else if (context.ArgumentIs(i, "KEEPTTL") && !expirySet)
            {
                keepTtl = true;
                expiry = ExpirySpec.Keep;
            }
            else if (!keepTtl && !expirySet && hasNext && TryExpiryUnit(context, i, out bool seconds, out bool relative))
            {
                if (!ExpirySpec.TryParse(context.Argument(i + 1), seconds, relative, context.Store.NowUnixMs, "set", allowNonPositive: false, out expiry, out string? error))
                {
                    return context.Error(error!);
                }

                expirySet = true;
                i++;
            }
            else
            {
                return context.SyntaxError();
            }
        }

        if (context.Request[2].Length > context.Server.Options.Limits.MaxValueBytes)
        {
            return context.Error(RespErrors.ValueTooLarge);
        }

        var operation = new SetOperation(context.OwnedArgument(1), context.OwnedArgument(2), condition, expiry, returnOld);
        if (returnOld)
        {
            return context.Apply(operation, static (c, op) => WriteOptionalBulkOrWrongType(c, op.OldValue, op.WrongType));
        }

        return context.Apply(operation, static (c, op) =>
        {
            if (op.Applied)
            {
                c.Writer.WriteOk();
            }
            else
            {
                c.Writer.WriteNull();
            }
        });
    }

    private static bool TryExpiryUnit(CommandContext context, int index, out bool seconds, out bool relative)
    {
        seconds = context.ArgumentIs(index, "EX") || context.ArgumentIs(index, "EXAT");
        relative = context.ArgumentIs(index, "EX") || context.ArgumentIs(index, "PX");
        return seconds || relative || context.ArgumentIs(index, "PXAT");
    }

    private static ValueTask SetNx(CommandContext context)
    {
        if (context.Request[2].Length > context.Server.Options.Limits.MaxValueBytes)
        {
            return context.Error(RespErrors.ValueTooLarge);
        }

        var operation = new SetOperation(context.OwnedArgument(1), context.OwnedArgument(2), SetCondition.IfAbsent, ExpirySpec.Clear, returnsOldValue: false);
        return context.Apply(operation, static (c, op) => c.Writer.WriteInteger(op.Applied ? 1 : 0));
    }

    private static ValueTask SetEx(CommandContext context) => SetWithExpiry(context, seconds: true, "setex");

    private static ValueTask PSetEx(CommandContext context) => SetWithExpiry(context, seconds: false, "psetex");

    private static ValueTask SetWithExpiry(CommandContext context, bool seconds, string command)
    {
        if (!ExpirySpec.TryParse(context.Argument(2), seconds, relative: true, context.Store.NowUnixMs, command, allowNonPositive: false, out ExpirySpec expiry, out string? error))
        {
            return context.Error(error!);
        }

        if (context.Request[3].Length > context.Server.Options.Limits.MaxValueBytes)
        {
            return context.Error(RespErrors.ValueTooLarge);
        }

        var operation = new SetOperation(context.OwnedArgument(1), context.OwnedArgument(3), SetCondition.None, expiry, returnsOldValue: false);
        return context.Apply(operation, static (c, _) => c.Writer.WriteOk());
    }

    private static ValueTask GetSet(CommandContext context)
    {
        if (context.Request[2].Length > context.Server.Options.Limits.MaxValueBytes)
        {
            return context.Error(RespErrors.ValueTooLarge);
        }

        var operation = new SetOperation(context.OwnedArgument(1), context.OwnedArgument(2), SetCondition.None, ExpirySpec.Clear, returnsOldValue: true);
        return context.Apply(operation, static (c, op) => WriteOptionalBulkOrWrongType(c, op.OldValue, op.WrongType));
    }

    private static ValueTask GetDel(CommandContext context)
    {
        var operation = new GetExOperation(context.OwnedArgument(1), GetExAction.Delete, default);
        return context.Apply(operation, static (c, op) => WriteOptionalBulkOrWrongType(c, op.Value, op.WrongType));
    }

    private static ValueTask GetEx(CommandContext context)
    {
        var action = GetExAction.None;
        ExpirySpec expiry = default;
        for (int i = 2; i < context.ArgumentCount; i++)
        {
            bool hasNext = i + 1 < context.ArgumentCount;
            if (context.ArgumentIs(i, "PERSIST") && action == GetExAction.None)
            {
                action = GetExAction.Persist;
            }
            else if (action == GetExAction.None && hasNext && TryExpiryUnit(context, i, out bool seconds, out bool relative))
            {
                if (!ExpirySpec.TryParse(context.Argument(i + 1), seconds, relative, context.Store.NowUnixMs, "getex", allowNonPositive: false, out expiry, out string? error))
                {
                    return context.Error(error!);
                }

                action = GetExAction.Expire;
                i++;
            }
            else
            {
                return context.SyntaxError();
            }
        }

        if (action == GetExAction.None)
        {
            return Get(context);
        }

        var operation = new GetExOperation(context.OwnedArgument(1), action, expiry);
        return context.Apply(operation, static (c, op) => WriteOptionalBulkOrWrongType(c, op.Value, op.WrongType));
    }

    private static ValueTask MGet(CommandContext context) =>
        context.ReadKeys(1, context.ArgumentCount - 1, 1, static (c, results) =>
        {
            c.Writer.WriteArrayHeader(results.Length);
            foreach (ReadResult result in results)
            {
                WriteValueOrNull(c, result);
            }
        });

    private static ValueTask MSet(CommandContext context) => MultiSet(context, onlyIfNoneExist: false);

    private static ValueTask MSetNx(CommandContext context) => MultiSet(context, onlyIfNoneExist: true);

    private static ValueTask MultiSet(CommandContext context, bool onlyIfNoneExist)
    {
        if (context.ArgumentCount % 2 == 0)
        {
            return context.WrongArgumentCount(context.Command.LowerName);
        }

        var pairs = new KeyValuePair<byte[], byte[]>[(context.ArgumentCount - 1) / 2];
        for (int i = 0; i < pairs.Length; i++)
        {
            if (context.Request[(2 * i) + 2].Length > context.Server.Options.Limits.MaxValueBytes)
            {
                return context.Error(RespErrors.ValueTooLarge);
            }
        }

        for (int i = 0; i < pairs.Length; i++)
        {
            pairs[i] = new(context.OwnedArgument((2 * i) + 1), context.OwnedArgument((2 * i) + 2));
        }

        var operation = new MultiSetOperation(pairs, onlyIfNoneExist);
        if (onlyIfNoneExist)
        {
            return context.Apply(operation, static (c, op) => c.Writer.WriteInteger(op.Applied ? 1 : 0));
        }

        return context.Apply(operation, static (c, _) => c.Writer.WriteOk());
    }

    private static ValueTask Append(CommandContext context)
    {
        var operation = new AppendOperation(context.OwnedArgument(1), context.Request.Memory(2).ToArray(), -1, context.Server.Options.Limits.MaxValueBytes);
        return context.Apply(operation, static (c, op) => WriteLengthOrError(c, op));
    }

    private static ValueTask SetRange(CommandContext context)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(2), out long offset))
        {
            return context.Error(RespErrors.NotInteger);
        }

        if (offset < 0)
        {
            return context.Error(RespErrors.OffsetOutOfRange);
        }

        // Compared without adding first: an offset near long.MaxValue must be too large, not overflow.
        if (context.Request[3].Length > 0 && offset > context.Server.Options.Limits.MaxValueBytes - context.Request[3].Length)
        {
            return context.Error(RespErrors.ValueTooLarge);
        }

        var operation = new AppendOperation(context.OwnedArgument(1), context.Request.Memory(3).ToArray(), offset, context.Server.Options.Limits.MaxValueBytes);
        return context.Apply(operation, static (c, op) => WriteLengthOrError(c, op));
    }

    private static void WriteLengthOrError(CommandContext context, AppendOperation operation)
    {
        if (operation.WrongType)
        {
            context.Writer.WriteError(RespErrors.WrongType);
        }
        else if (operation.TooLarge)
        {
            context.Writer.WriteError(RespErrors.ValueTooLarge);
        }
        else
        {
            context.Writer.WriteInteger(operation.Length);
        }
    }

    private static ValueTask StrLen(CommandContext context) =>
        context.ReadKeys(1, 1, 1, static (c, results) =>
        {
            if (results[0].Found && results[0].Record.IsTypedHeader)
            {
                c.Writer.WriteError(RespErrors.WrongType);
            }
            else
            {
                c.Writer.WriteInteger(results[0].Found ? results[0].Record.Value.Length : 0);
            }
        });

    private static ValueTask GetRange(CommandContext context)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(2), out _) || !RespNumbers.TryParseInt64(context.Argument(3), out _))
        {
            return context.Error(RespErrors.NotInteger);
        }

        return context.ReadKeys(1, 1, 1, static (c, results) =>
        {
            // Both numbers were validated before the read; the arguments are still the request's.
            if (results[0].Found && results[0].Record.IsTypedHeader)
            {
                c.Writer.WriteError(RespErrors.WrongType);
            }
            else if (RespNumbers.TryParseInt64(c.Argument(2), out long start) && RespNumbers.TryParseInt64(c.Argument(3), out long end))
            {
                WriteRange(c, results[0].Found ? results[0].Record.Value : [], start, end);
            }
        });
    }

    private static void WriteRange(CommandContext context, ReadOnlySpan<byte> value, long start, long end)
    {
        long length = value.Length;
        if (start < 0 && end < 0 && start > end)
        {
            context.Writer.WriteBulk([]);
            return;
        }

        if (start < 0)
        {
            start = length + start;
        }

        if (end < 0)
        {
            end = length + end;
        }

        start = Math.Max(start, 0);
        end = Math.Max(end, 0);
        if (end >= length)
        {
            end = length - 1;
        }

        if (start > end || length == 0)
        {
            context.Writer.WriteBulk([]);
        }
        else
        {
            context.Writer.WriteBulk(value.Slice((int)start, (int)(end - start + 1)));
        }
    }

    private static void WriteOptionalBulk(CommandContext context, byte[]? value)
    {
        if (value is null)
        {
            context.Writer.WriteNull();
        }
        else
        {
            context.Writer.WriteBulk(value);
        }
    }

    private static void WriteOptionalBulkOrWrongType(CommandContext context, byte[]? value, bool wrongType)
    {
        if (wrongType)
        {
            context.Writer.WriteError(RespErrors.WrongType);
        }
        else
        {
            WriteOptionalBulk(context, value);
        }
    }
}
