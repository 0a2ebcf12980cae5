using Dynamite.Protocols.Resp.Commands.ListOperations;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// List commands, with redis-server 7.0's arguments, replies and errors. An item is an element of the key named by its
/// position (<see cref="ListPosition"/>), whose register holds its value; writes run as deltas on a standalone node and
/// a cluster alike (<see cref="ListChange"/>), reads as one consistent read of the key, and the commands over two keys
/// as steps on a cluster (docs/DATA-TYPES.md, "Lists").
/// </summary>
internal static class ListCommands
{
    private const CommandFlags WriteFlags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
    private const string Group = "list";

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("LPUSH", -3, WriteFlags, 1, 1, 1, Group, "1.0.0", "Prepends one or more elements to a list. Creates the key if it doesn't exist.", static c => Push(c, atHead: true, onlyIfExists: false)),
        new("RPUSH", -3, WriteFlags, 1, 1, 1, Group, "1.0.0", "Appends one or more elements to a list. Creates the key if it doesn't exist.", static c => Push(c, atHead: false, onlyIfExists: false)),
        new("LPUSHX", -3, WriteFlags, 1, 1, 1, Group, "2.2.0", "Prepends one or more elements to a list only when the list exists.", static c => Push(c, atHead: true, onlyIfExists: true)),
        new("RPUSHX", -3, WriteFlags, 1, 1, 1, Group, "2.2.0", "Appends an element to a list only when the list exists.", static c => Push(c, atHead: false, onlyIfExists: true)),
        new("LPOP", -2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, Group, "1.0.0", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", static c => Pop(c, atHead: true)),
        new("RPOP", -2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, Group, "1.0.0", "Returns and removes the last elements of a list. Deletes the list if the last element was popped.", static c => Pop(c, atHead: false)),
        new("LLEN", 2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, 1, 1, Group, "1.0.0", "Returns the length of a list.", LLen),
        new("LRANGE", 4, CommandFlags.ReadOnly, 1, 1, 1, Group, "1.0.0", "Returns a range of elements from a list.", LRange),
        new("LINDEX", 3, CommandFlags.ReadOnly, 1, 1, 1, Group, "1.0.0", "Returns an element from a list by its index.", LIndex),
        new("LPOS", -3, CommandFlags.ReadOnly, 1, 1, 1, Group, "6.0.6", "Returns the index of matching elements in a list.", LPos),
        new("LSET", 4, CommandFlags.Write | CommandFlags.DenyOom, 1, 1, 1, Group, "1.0.0", "Sets the value of an element in a list by its index.", LSet),
        new("LREM", 4, CommandFlags.Write, 1, 1, 1, Group, "1.0.0", "Removes elements from a list. Deletes the list if the last element was removed.", LRem),
        new("LTRIM", 4, CommandFlags.Write, 1, 1, 1, Group, "1.0.0", "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", LTrim),
        new("LINSERT", 5, CommandFlags.Write | CommandFlags.DenyOom, 1, 1, 1, Group, "2.2.0", "Inserts an element before or after another element in a list.", LInsert),
        new("LMOVE", 5, CommandFlags.Write | CommandFlags.DenyOom, 1, 2, 1, Group, "6.2.0", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", LMove),
        new("RPOPLPUSH", 3, CommandFlags.Write | CommandFlags.DenyOom, 1, 2, 1, Group, "1.2.0", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", RPopLPush),
        new("LMPOP", -4, CommandFlags.Write, 0, 0, 0, Group, "7.0.0", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", LMPop) { KeyCountAt = 1 },
        new("BLPOP", -3, CommandFlags.Write, 1, -2, 1, Group, "2.0.0", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", static c => BPop(c, atHead: true)),
        new("BRPOP", -3, CommandFlags.Write, 1, -2, 1, Group, "2.0.0", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", static c => BPop(c, atHead: false)),
        new("BLMOVE", 6, CommandFlags.Write | CommandFlags.DenyOom, 1, 2, 1, Group, "6.2.0", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", BLMove),
        new("BRPOPLPUSH", 4, CommandFlags.Write | CommandFlags.DenyOom, 1, 2, 1, Group, "2.2.0", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", BRPopLPush),
        new("BLMPOP", -5, CommandFlags.Write, 0, 0, 0, Group, "7.0.0", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", BLMPop) { KeyCountAt = 2 },
    ];

    private static ValueTask Push(CommandContext context, bool atHead, bool onlyIfExists)
    {
        for (int i = 2; i < context.ArgumentCount; i++)
        {
            if (context.Argument(i).Length > context.Server.Options.Limits.MaxValueBytes)
            {
                return context.Error(RespErrors.ValueTooLarge);
            }
        }

        var operation = new ListPushOperation(context.OwnedArgument(1), TypedKeyCommands.OwnedArguments(context, 2), atHead, onlyIfExists, context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Length));
    }

    private static ValueTask Pop(CommandContext context, bool atHead)
    {
        if (context.ArgumentCount > 3)
        {
            return context.WrongArgumentCount(context.Command.LowerName);
        }

        bool counted = context.ArgumentCount == 3;
        long count = 1;
        if (counted && (!RespNumbers.TryParseInt64(context.Argument(2), out count) || count < 0))
        {
            return context.Error("ERR value is out of range, must be positive");
        }

        var operation = new ListPopOperation(context.OwnedArgument(1), atHead, count, context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, (c, op) =>
        {
            if (!op.Existed)
            {
                if (counted)
                {
                    c.Writer.WriteNullArray();
                }
                else
                {
                    c.Writer.WriteNull();
                }
            }
            else if (counted)
            {
                WriteValues(c, op.Popped);
            }
            else
            {
                c.Writer.WriteBulk(op.Popped[0]);
            }
        });
    }

    private static ValueTask LLen(CommandContext context) =>
        TypedKeyCommands.Apply(context, new ListRead(context.OwnedArgument(1), lengthOnly: true), static (c, op) => c.Writer.WriteInteger(op.Length));

    private static ValueTask LRange(CommandContext context)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(2), out long start) || !RespNumbers.TryParseInt64(context.Argument(3), out long stop))
        {
            return context.Error(RespErrors.NotInteger);
        }

        return TypedKeyCommands.Apply(context, ListRead.Window(context.OwnedArgument(1), start, stop), static (c, op) =>
        {
            c.Writer.WriteArrayHeader(op.Items.Count);
            foreach (ListItem item in op.Items)
            {
                c.Writer.WriteBulk(item.Value);
            }
        });
    }

    private static ValueTask LIndex(CommandContext context)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(2), out long index))
        {
            return context.Error(RespErrors.NotInteger);
        }

        // A window of one item: an index past either end (a negative one too) leaves it empty.
        return TypedKeyCommands.Apply(context, ListRead.Window(context.OwnedArgument(1), index, index), static (c, op) =>
        {
            if (op.Items.Count == 0)
            {
                c.Writer.WriteNull();
            }
            else
            {
                c.Writer.WriteBulk(op.Items[0].Value);
            }
        });
    }

    private static ValueTask LPos(CommandContext context)
    {
        long rank = 1, count = -1, maxLength = 0;
        for (int j = 3; j < context.ArgumentCount; j++)
        {
            bool more = j + 1 < context.ArgumentCount;
            if (context.ArgumentIs(j, "RANK") && more)
            {
                if (!RespNumbers.TryParseInt64(context.Argument(++j), out rank))
                {
                    return context.Error(RespErrors.NotInteger);
                }

                if (rank == 0)
                {
                    return context.Error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                }

                if (rank == long.MinValue)
                {
                    return context.Error("ERR value is out of range");
                }
            }
            else if (context.ArgumentIs(j, "COUNT") && more)
            {
                if (!RespNumbers.TryParseInt64(context.Argument(++j), out count) || count < 0)
                {
                    return context.Error("ERR COUNT can't be negative");
                }
            }
            else if (context.ArgumentIs(j, "MAXLEN") && more)
            {
                if (!RespNumbers.TryParseInt64(context.Argument(++j), out maxLength) || maxLength < 0)
                {
                    return context.Error("ERR MAXLEN can't be negative");
                }
            }
            else
            {
                return context.SyntaxError();
            }
        }

        byte[] element = context.OwnedArgument(2);
        return TypedKeyCommands.Apply(context, new ListRead(context.OwnedArgument(1), lengthOnly: false), (c, op) =>
        {
            var matches = new List<long>();
            bool fromTail = rank < 0;
            long skip = Math.Abs(rank) - 1;
            int length = op.Items.Count;
            for (int scanned = 0; scanned < length && (maxLength == 0 || scanned < maxLength); scanned++)
            {
                int index = fromTail ? length - 1 - scanned : scanned;
                if (!op.Items[index].Value.AsSpan().SequenceEqual(element))
                {
                    continue;
                }

                if (skip > 0)
                {
                    skip--;
                    continue;
                }

                matches.Add(index);
                if (count == -1 || (count > 0 && matches.Count >= count))
                {
                    break;
                }
            }

            if (count == -1)
            {
                if (matches.Count == 0)
                {
                    c.Writer.WriteNull();
                }
                else
                {
                    c.Writer.WriteInteger(matches[0]);
                }

                return;
            }

            c.Writer.WriteArrayHeader(matches.Count);
            foreach (long match in matches)
            {
                c.Writer.WriteInteger(match);
            }
        });
    }

    private static ValueTask LSet(CommandContext context)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(2), out long index))
        {
            return context.Error(RespErrors.NotInteger);
        }

        if (context.Argument(3).Length > context.Server.Options.Limits.MaxValueBytes)
        {
            return context.Error(RespErrors.ValueTooLarge);
        }

        var operation = new ListEditOperation(context.OwnedArgument(1), ListEdit.Set, index, 0, null, context.OwnedArgument(3), context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) =>
        {
            if (op.Error is not null)
            {
                c.Writer.WriteError(op.Error);
            }
            else
            {
                c.Writer.WriteOk();
            }
        });
    }

    private static ValueTask LRem(CommandContext context)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(2), out long count))
        {
            return context.Error(RespErrors.NotInteger);
        }

        var operation = new ListEditOperation(context.OwnedArgument(1), ListEdit.Remove, count, 0, null, context.OwnedArgument(3), context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Result));
    }

    private static ValueTask LTrim(CommandContext context)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(2), out long start) || !RespNumbers.TryParseInt64(context.Argument(3), out long stop))
        {
            return context.Error(RespErrors.NotInteger);
        }

        var operation = new ListEditOperation(context.OwnedArgument(1), ListEdit.Trim, start, stop, null, null, context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, _) => c.Writer.WriteOk());
    }

    private static ValueTask LInsert(CommandContext context)
    {
        ListEdit edit;
        if (context.ArgumentIs(2, "BEFORE"))
        {
            edit = ListEdit.InsertBefore;
        }
        else if (context.ArgumentIs(2, "AFTER"))
        {
            edit = ListEdit.InsertAfter;
        }
        else
        {
            return context.SyntaxError();
        }

        if (context.Argument(4).Length > context.Server.Options.Limits.MaxValueBytes)
        {
            return context.Error(RespErrors.ValueTooLarge);
        }

        var operation = new ListEditOperation(context.OwnedArgument(1), edit, 0, 0, context.OwnedArgument(3), context.OwnedArgument(4), context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Result));
    }

    /// <summary>LEFT or RIGHT at <paramref name="index"/>; null when it is neither.</summary>
    private static bool? ParseEnd(CommandContext context, int index) =>
        context.ArgumentIs(index, "LEFT") ? true : context.ArgumentIs(index, "RIGHT") ? false : null;

    private static ValueTask LMove(CommandContext context)
    {
        if (ParseEnd(context, 3) is not { } fromHead || ParseEnd(context, 4) is not { } toHead)
        {
            return context.SyntaxError();
        }

        return Move(context, fromHead, toHead);
    }

    private static ValueTask RPopLPush(CommandContext context) => Move(context, fromHead: false, toHead: true);

    private static ValueTask Move(CommandContext context, bool fromHead, bool toHead)
    {
        var operation = new ListMoveSteps(context.OwnedArgument(1), context.OwnedArgument(2), fromHead, toHead, context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) => WriteMoved(c, op));
    }

    private static void WriteMoved(CommandContext context, ListMoveSteps op)
    {
        if (op.Moved is { } value)
        {
            context.Writer.WriteBulk(value);
        }
        else
        {
            context.Writer.WriteNull();
        }
    }

    private static ValueTask LMPop(CommandContext context)
    {
        if (MultiPopArguments.Parse(context, 1, "LEFT", "RIGHT", out byte[][] keys, out bool atHead, out long count) is { } error)
        {
            return context.Error(error);
        }

        var operation = ListPopOperation.PopFirstOf(keys, atHead, count, context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) => WriteKeyAndValues(c, op));
    }

    private static void WriteKeyAndValues(CommandContext context, MultiKeyPopSteps<ListPopOperation, byte[]> op)
    {
        if (op.PoppedKey is not { } key)
        {
            context.Writer.WriteNullArray();
            return;
        }

        context.Writer.WriteArrayHeader(2);
        context.Writer.WriteBulk(key);
        WriteValues(context, op.Popped);
    }

    private static ValueTask BPop(CommandContext context, bool atHead)
    {
        if (BlockingWait.ParseTimeout(context.Argument(context.ArgumentCount - 1), out string? error) is not { } timeout)
        {
            return context.Error(error!);
        }

        byte[][] keys = TypedKeyCommands.OwnedArguments(context, 1, context.ArgumentCount - 1);
        Core.Membership.NodeId actor = context.Server.Actor;
        return BlockingWait.BlockAsync(context, keys, () => ListPopOperation.PopFirstOf(keys, atHead, 1, actor), static op => op.PoppedKey is not null, timeout, static (c, op) =>
        {
            c.Writer.WriteArrayHeader(2);
            c.Writer.WriteBulk(op.PoppedKey!);
            c.Writer.WriteBulk(op.Popped[0]);
        });
    }

    private static ValueTask BLMove(CommandContext context)
    {
        if (ParseEnd(context, 3) is not { } fromHead || ParseEnd(context, 4) is not { } toHead)
        {
            return context.SyntaxError();
        }

        return BlockingMove(context, 5, fromHead, toHead);
    }

    private static ValueTask BRPopLPush(CommandContext context) => BlockingMove(context, 3, fromHead: false, toHead: true);

    private static ValueTask BlockingMove(CommandContext context, int timeoutAt, bool fromHead, bool toHead)
    {
        if (BlockingWait.ParseTimeout(context.Argument(timeoutAt), out string? error) is not { } timeout)
        {
            return context.Error(error!);
        }

        byte[] source = context.OwnedArgument(1), destination = context.OwnedArgument(2);
        Core.Membership.NodeId actor = context.Server.Actor;
        return BlockingWait.BlockAsync(context, [source], () => new ListMoveSteps(source, destination, fromHead, toHead, actor), static op => op.Moved is not null, timeout, static (c, op) => WriteMoved(c, op), static op => op.DestinationWrongType);
    }

    private static ValueTask BLMPop(CommandContext context)
    {
        if (BlockingWait.ParseTimeout(context.Argument(1), out string? timeoutError) is not { } timeout)
        {
            return context.Error(timeoutError!);
        }

        if (MultiPopArguments.Parse(context, 2, "LEFT", "RIGHT", out byte[][] keys, out bool atHead, out long count) is { } error)
        {
            return context.Error(error);
        }

        Core.Membership.NodeId actor = context.Server.Actor;
        return BlockingWait.BlockAsync(context, keys, () => ListPopOperation.PopFirstOf(keys, atHead, count, actor), static op => op.PoppedKey is not null, timeout, static (c, op) => WriteKeyAndValues(c, op));
    }

    private static void WriteValues(CommandContext context, IReadOnlyList<byte[]> values)
    {
        context.Writer.WriteArrayHeader(values.Count);
        foreach (byte[] value in values)
        {
            context.Writer.WriteBulk(value);
        }
    }
}
