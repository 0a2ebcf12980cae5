using System.Buffers.Text;
using Dynamite.Protocols.Resp.Commands.HashOperations;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// Hash commands, with redis-server's replies and errors. Each is one atomic storage operation over the key's header
/// and the fields it names (<see cref="HashKey"/> describes the stored form). A standalone node only for now: a
/// cluster node's replicas do not carry typed keys yet, so there every hash command is refused before anything runs
/// (<see cref="Core.KeyValue.IKeyValueStore.SupportsTypedKeys"/>).
/// </summary>
internal static class HashCommands
{
    public const string NotOnCluster = "ERR hash commands are not supported on a cluster node yet";

    private const CommandFlags WriteFlags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
    private const CommandFlags ReadFlags = CommandFlags.ReadOnly | CommandFlags.Fast;
    private const int DefaultScanCount = 10;

    /// <summary>The most fields one HRANDFIELD with a negative count returns (Redis has no bound but memory).</summary>
    private const int MaxRandomPicks = 10_000_000;

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
        new("HRANDFIELD", -2, CommandFlags.ReadOnly, 1, 1, 1, "hash", "6.2.0", "Returns one or more random fields from a hash.", HRandField),
        new("HSCAN", -3, CommandFlags.ReadOnly, 1, 1, 1, "hash", "2.8.0", "Iterates over fields and values of a hash.", HScan),
    ];

    private static ValueTask HSet(CommandContext context) => SetFields(context, HashWriteMode.Set, okReply: false);

    private static ValueTask HMSet(CommandContext context) => SetFields(context, HashWriteMode.Set, okReply: true);

    private static ValueTask HSetNx(CommandContext context) => SetFields(context, HashWriteMode.SetIfAbsent, okReply: false);

    private static ValueTask SetFields(CommandContext context, HashWriteMode mode, bool okReply)
    {
        if (!context.Store.SupportsTypedKeys)
        {
            return context.Error(NotOnCluster);
        }

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

        var operation = new HashWriteOperation(context.OwnedArgument(1), fields, values, mode, context.Server.Actor);
        return okReply
            ? context.Apply(operation, static (c, op) => WriteOrWrongType(c, op.WrongType, static w => w.WriteOk()))
            : context.Apply(operation, static (c, op) =>
            {
                if (op.WrongType)
                {
                    c.Writer.WriteError(RespErrors.WrongType);
                }
                else
                {
                    c.Writer.WriteInteger(op.Changed);
                }
            });
    }

    private static ValueTask HDel(CommandContext context)
    {
        if (!context.Store.SupportsTypedKeys)
        {
            return context.Error(NotOnCluster);
        }

        var operation = new HashWriteOperation(context.OwnedArgument(1), OwnedArguments(context, 2), null, HashWriteMode.Delete, context.Server.Actor);
        return context.Apply(operation, static (c, op) =>
        {
            if (op.WrongType)
            {
                c.Writer.WriteError(RespErrors.WrongType);
            }
            else
            {
                c.Writer.WriteInteger(op.Changed);
            }
        });
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
    private static ValueTask ReadFields(CommandContext context, Action<CommandContext, HashReadOperation> reply)
    {
        if (!context.Store.SupportsTypedKeys)
        {
            return context.Error(NotOnCluster);
        }

        var operation = new HashReadOperation(context.OwnedArgument(1), HashReadMode.Fields, OwnedArguments(context, 2));
        return context.Apply(operation, (c, op) =>
        {
            if (op.WrongType)
            {
                c.Writer.WriteError(RespErrors.WrongType);
            }
            else
            {
                reply(c, op);
            }
        });
    }

    private static ValueTask HLen(CommandContext context)
    {
        if (!context.Store.SupportsTypedKeys)
        {
            return context.Error(NotOnCluster);
        }

        return context.Apply(new HashReadOperation(context.OwnedArgument(1), HashReadMode.Length), static (c, op) =>
        {
            if (op.WrongType)
            {
                c.Writer.WriteError(RespErrors.WrongType);
            }
            else
            {
                c.Writer.WriteInteger(op.Length);
            }
        });
    }

    private static ValueTask HGetAll(CommandContext context) =>
        ReadAll(context, static (c, op) =>
        {
            c.Writer.WriteMapHeader(op.Names.Count);
            for (int i = 0; i < op.Names.Count; i++)
            {
                c.Writer.WriteBulk(op.Names[i]);
                c.Writer.WriteBulk(op.Values[i]!);
            }
        });

    private static ValueTask HKeys(CommandContext context) =>
        ReadAll(context, static (c, op) =>
        {
            c.Writer.WriteArrayHeader(op.Names.Count);
            foreach (byte[] name in op.Names)
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

    private static ValueTask ReadAll(CommandContext context, Action<CommandContext, HashReadOperation> reply)
    {
        if (!context.Store.SupportsTypedKeys)
        {
            return context.Error(NotOnCluster);
        }

        return context.Apply(new HashReadOperation(context.OwnedArgument(1), HashReadMode.All), (c, op) =>
        {
            if (op.WrongType)
            {
                c.Writer.WriteError(RespErrors.WrongType);
            }
            else
            {
                reply(c, op);
            }
        });
    }

    private static ValueTask HIncrBy(CommandContext context)
    {
        if (!context.Store.SupportsTypedKeys)
        {
            return context.Error(NotOnCluster);
        }

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
        if (!context.Store.SupportsTypedKeys)
        {
            return context.Error(NotOnCluster);
        }

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

    private static ValueTask HRandField(CommandContext context)
    {
        if (!context.Store.SupportsTypedKeys)
        {
            return context.Error(NotOnCluster);
        }

        if (context.ArgumentCount > 4 || (context.ArgumentCount == 4 && !context.ArgumentIs(3, "WITHVALUES")))
        {
            return context.SyntaxError();
        }

        long count = 0;
        if (context.ArgumentCount >= 3 && !RespNumbers.TryParseInt64(context.Argument(2), out count))
        {
            return context.Error(RespErrors.NotInteger);
        }

        if (context.ArgumentCount == 4 && (count < -(long.MaxValue / 2) || count > long.MaxValue / 2))
        {
            return context.Error("ERR value is out of range");
        }

        if (count < -MaxRandomPicks)
        {
            // Redis would build a reply of that many fields; one reply here is bounded.
            return context.Error($"ERR HRANDFIELD count must not be below -{MaxRandomPicks} on this server");
        }

        return context.Apply(new HashReadOperation(context.OwnedArgument(1), HashReadMode.All), static (c, op) =>
        {
            if (op.WrongType)
            {
                c.Writer.WriteError(RespErrors.WrongType);
                return;
            }

            if (c.ArgumentCount == 2)
            {
                if (op.Names.Count == 0)
                {
                    c.Writer.WriteNull();
                }
                else
                {
                    c.Writer.WriteBulk(op.Names[Random.Shared.Next(op.Names.Count)]);
                }

                return;
            }

            _ = RespNumbers.TryParseInt64(c.Argument(2), out long requested);
            WriteRandomFields(c, op, requested, withValues: c.ArgumentCount == 4);
        });
    }

    /// <summary>HRANDFIELD with a count: distinct fields (at most all of them) when positive, |count| picks that may repeat when negative.</summary>
    private static void WriteRandomFields(CommandContext context, HashReadOperation op, long requested, bool withValues)
    {
        int total = op.Names.Count;
        int[] picks;
        if (total == 0 || requested == 0)
        {
            picks = [];
        }
        else if (requested > 0)
        {
            picks = [.. Enumerable.Range(0, total)];
            Random.Shared.Shuffle(picks);
            picks = picks[..(int)Math.Min(requested, total)];
        }
        else
        {
            picks = new int[checked((int)-requested)];
            for (int i = 0; i < picks.Length; i++)
            {
                picks[i] = Random.Shared.Next(total);
            }
        }

        bool pairs = withValues && context.Writer.IsResp3;
        context.Writer.WriteArrayHeader(withValues && !pairs ? picks.Length * 2 : picks.Length);
        foreach (int pick in picks)
        {
            if (pairs)
            {
                context.Writer.WriteArrayHeader(2);
            }

            context.Writer.WriteBulk(op.Names[pick]);
            if (withValues)
            {
                context.Writer.WriteBulk(op.Values[pick]!);
            }
        }
    }

    private static ValueTask HScan(CommandContext context)
    {
        if (!context.Store.SupportsTypedKeys)
        {
            return context.Error(NotOnCluster);
        }

        if (!Utf8Parser.TryParse(context.Argument(2), out ulong cursor, out int consumed) || consumed != context.Argument(2).Length)
        {
            return context.Error(RespErrors.InvalidCursor);
        }

        // As redis-server: a missing key answers an empty scan and a key of another type WRONGTYPE before the options
        // are looked at, so their errors are found here and answered after the read.
        string? optionError = null;
        long count = DefaultScanCount;
        for (int i = 3; i < context.ArgumentCount && optionError is null; i += 2)
        {
            bool hasNext = i + 1 < context.ArgumentCount;
            if (context.ArgumentIs(i, "COUNT") && hasNext)
            {
                if (!RespNumbers.TryParseInt64(context.Argument(i + 1), out count))
                {
                    optionError = RespErrors.NotInteger;
                }
                else if (count < 1)
                {
                    optionError = RespErrors.Syntax;
                }
            }
            else if (!(context.ArgumentIs(i, "MATCH") && hasNext))
            {
                optionError = RespErrors.Syntax;
            }
        }

        byte[] key = context.OwnedArgument(1);
        byte[]? after = null;
        if (cursor != 0 && optionError is null && !context.Server.HashScanCursors.TryResume(cursor, key, out after))
        {
            optionError = RespErrors.InvalidCursor;
        }

        var operation = new HashReadOperation(key, HashReadMode.Page, after: after, limit: optionError is null ? (int)Math.Min(count, 100_000) : 1)
        {
            Error = optionError,
        };
        return context.Apply(operation, static (c, op) =>
        {
            if (op.WrongType || (op.Exists && op.Error is not null))
            {
                c.Writer.WriteError(op.WrongType ? RespErrors.WrongType : op.Error!);
                return;
            }

            byte[]? pattern = null;
            for (int i = 3; i + 1 < c.ArgumentCount; i += 2)
            {
                if (c.ArgumentIs(i, "MATCH"))
                {
                    pattern = GlobPattern.MatchesAll(c.Argument(i + 1)) ? null : c.Argument(i + 1).ToArray();
                }
            }

            var matched = new List<int>(op.Names.Count);
            for (int i = 0; i < op.Names.Count; i++)
            {
                if (pattern is null || GlobPattern.IsMatch(pattern, op.Names[i]))
                {
                    matched.Add(i);
                }
            }

            ulong next = op.ResumeAfter is { } resume ? c.Server.HashScanCursors.Issue(c.OwnedArgument(1), resume) : 0;
            c.Writer.WriteArrayHeader(2);
            c.Writer.WriteBulk(next.ToString(System.Globalization.CultureInfo.InvariantCulture));
            c.Writer.WriteArrayHeader(matched.Count * 2);
            foreach (int i in matched)
            {
                c.Writer.WriteBulk(op.Names[i]);
                c.Writer.WriteBulk(op.Values[i]!);
            }
        });
    }

    private static void WriteOrWrongType(CommandContext context, bool wrongType, Action<RespWriter> write)
    {
        if (wrongType)
        {
            context.Writer.WriteError(RespErrors.WrongType);
        }
        else
        {
            write(context.Writer);
        }
    }

    private static byte[][] OwnedArguments(CommandContext context, int first)
    {
        var arguments = new byte[context.ArgumentCount - first][];
        for (int i = first; i < context.ArgumentCount; i++)
        {
            arguments[i - first] = context.OwnedArgument(i);
        }

        return arguments;
    }
}
