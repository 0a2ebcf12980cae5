using Dynamite.Core.DataTypes;
using Dynamite.Protocols.Resp.Commands.SetOperations;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// Set commands, with redis-server's replies and errors. Each is one atomic storage operation over every key it names
/// (<see cref="TypedKey"/> describes the stored form: a member is an element whose register write has an empty value).
/// On a cluster node the commands of one key run as deltas and quorum reads (docs/DATA-TYPES.md); SMOVE and the STORE
/// forms, which write over several keys, run there as single-key steps (<see cref="SetMoveSteps"/>, <see cref="SetStoreSteps"/>),
/// since no atomic write spans keys; a standalone node runs the same operations whole, atomically.
/// Replies that are sets in Redis (SMEMBERS, SINTER, SUNION, SDIFF, SPOP with a count) are RESP3 sets; their members
/// come in byte order, where redis-server's order is its hash table's.
/// </summary>
internal static class SetCommands
{
    private const CommandFlags ReadFlags = CommandFlags.ReadOnly | CommandFlags.Fast;

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("SADD", -3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, 1, 1, 1, "set", "1.0.0", "Adds one or more members to a set. Creates the key if it doesn't exist.", SAdd),
        new("SREM", -3, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, "set", "1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed.", SRem),
        new("SMEMBERS", 2, CommandFlags.ReadOnly, 1, 1, 1, "set", "1.0.0", "Returns all members of a set.", SMembers),
        new("SISMEMBER", 3, ReadFlags, 1, 1, 1, "set", "1.0.0", "Determines whether a member belongs to a set.", SIsMember),
        new("SMISMEMBER", -3, ReadFlags, 1, 1, 1, "set", "6.2.0", "Determines whether multiple members belong to a set.", SMIsMember),
        new("SCARD", 2, ReadFlags, 1, 1, 1, "set", "1.0.0", "Returns the number of members in a set.", SCard),
        new("SPOP", -2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, "set", "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", SPop),
        new("SRANDMEMBER", -2, CommandFlags.ReadOnly, 1, 1, 1, "set", "1.0.0", "Get one or multiple random members from a set.", SRandMember),
        new("SSCAN", -3, CommandFlags.ReadOnly, 1, 1, 1, "set", "2.8.0", "Iterates over members of a set.", SScan),
        new("SMOVE", 4, CommandFlags.Write | CommandFlags.Fast, 1, 2, 1, "set", "1.0.0", "Moves a member from one set to another.", SMove),
        new("SINTER", -2, CommandFlags.ReadOnly, 1, -1, 1, "set", "1.0.0", "Returns the intersect of multiple sets.", SInter),
        new("SUNION", -2, CommandFlags.ReadOnly, 1, -1, 1, "set", "1.0.0", "Returns the union of multiple sets.", SUnion),
        new("SDIFF", -2, CommandFlags.ReadOnly, 1, -1, 1, "set", "1.0.0", "Returns the difference of multiple sets.", SDiff),
        new("SINTERSTORE", -3, CommandFlags.Write | CommandFlags.DenyOom, 1, -1, 1, "set", "1.0.0", "Stores the intersect of multiple sets in a key.", SInterStore),
        new("SUNIONSTORE", -3, CommandFlags.Write | CommandFlags.DenyOom, 1, -1, 1, "set", "1.0.0", "Stores the union of multiple sets in a key.", SUnionStore),
        new("SDIFFSTORE", -3, CommandFlags.Write | CommandFlags.DenyOom, 1, -1, 1, "set", "1.0.0", "Stores the difference of multiple sets in a key.", SDiffStore),

        // Its keys follow a count (movable keys): COMMAND INFO gives no key range, as redis-server does.
        new("SINTERCARD", -3, CommandFlags.ReadOnly, 0, 0, 0, "set", "7.0.0", "Returns the number of members of the intersect of multiple sets.", SInterCard) { KeyCountAt = 1 },
    ];

    private static ValueTask SAdd(CommandContext context) => WriteMembers(context, ElementWriteMode.Set);

    private static ValueTask SRem(CommandContext context) => WriteMembers(context, ElementWriteMode.Delete);

    private static ValueTask WriteMembers(CommandContext context, ElementWriteMode mode)
    {
        var operation = new ElementWriteOperation(context.OwnedArgument(1), DataType.Set, TypedKeyCommands.OwnedArguments(context, 2), null, mode, context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Changed));
    }

    private static ValueTask SMembers(CommandContext context) =>
        TypedKeyCommands.Apply(context, Read(context, ElementReadMode.All), static (c, op) => WriteSet(c, op.ElementNames));

    private static ValueTask SIsMember(CommandContext context) =>
        TypedKeyCommands.Apply(context, Read(context, ElementReadMode.Named), static (c, op) => c.Writer.WriteInteger(op.Values.Count > 0 && op.Values[0] is not null ? 1 : 0));

    private static ValueTask SMIsMember(CommandContext context) =>
        TypedKeyCommands.Apply(context, Read(context, ElementReadMode.Named), static (c, op) =>
        {
            // A missing key read nothing: every member is absent.
            int count = c.ArgumentCount - 2;
            c.Writer.WriteArrayHeader(count);
            for (int i = 0; i < count; i++)
            {
                c.Writer.WriteInteger(i < op.Values.Count && op.Values[i] is not null ? 1 : 0);
            }
        });

    private static ValueTask SCard(CommandContext context) =>
        TypedKeyCommands.Apply(context, Read(context, ElementReadMode.Length), static (c, op) => c.Writer.WriteInteger(op.Length));

    /// <summary>A read of the set at argument 1; Named reads the members from argument 2 on.</summary>
    private static ElementReadOperation Read(CommandContext context, ElementReadMode mode) =>
        new(context.OwnedArgument(1), DataType.Set, mode, null, mode == ElementReadMode.Named ? TypedKeyCommands.OwnedArguments(context, 2) : null);

    private static ValueTask SPop(CommandContext context)
    {
        if (context.ArgumentCount > 3)
        {
            return context.SyntaxError();
        }

        long count = 1;
        if (context.ArgumentCount == 3 && (!RespNumbers.TryParseInt64(context.Argument(2), out count) || count < 0))
        {
            return context.Error("ERR value is out of range, must be positive");
        }

        return TypedKeyCommands.Apply(context, new SetPopOperation(context.OwnedArgument(1), count), static (c, op) =>
        {
            if (c.ArgumentCount == 3)
            {
                WriteSet(c, op.Popped);
            }
            else if (op.Popped.Count == 0)
            {
                c.Writer.WriteNull();
            }
            else
            {
                c.Writer.WriteBulk(op.Popped[0]);
            }
        });
    }

    private static ValueTask SRandMember(CommandContext context)
    {
        if (context.ArgumentCount > 3)
        {
            return context.SyntaxError();
        }

        if (context.ArgumentCount == 3 && ElementIteration.ParseRandomCount(context, pairs: false, out _) is { } error)
        {
            return context.Error(error);
        }

        return TypedKeyCommands.Apply(context, Read(context, ElementReadMode.All), static (c, op) =>
        {
            if (c.ArgumentCount == 2)
            {
                ElementIteration.WriteRandomName(c, op.ElementNames);
                return;
            }

            // An array, not a set, even of distinct members: as redis-server answers.
            _ = RespNumbers.TryParseInt64(c.Argument(2), out long requested);
            int[] picks = ElementIteration.RandomPicks(op.ElementNames.Count, requested);
            c.Writer.WriteArrayHeader(picks.Length);
            foreach (int pick in picks)
            {
                c.Writer.WriteBulk(op.ElementNames[pick]);
            }
        });
    }

    private static ValueTask SScan(CommandContext context) => ElementIteration.Scan(context, DataType.Set, null);

    private static ValueTask SMove(CommandContext context)
    {
        var operation = new SetMoveSteps(context.OwnedArgument(1), context.OwnedArgument(2), context.OwnedArgument(3), context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Moved ? 1 : 0));
    }

    private static ValueTask SInter(CommandContext context) => Combine(context, SetAlgebra.Intersection);

    private static ValueTask SUnion(CommandContext context) => Combine(context, SetAlgebra.Union);

    private static ValueTask SDiff(CommandContext context) => Combine(context, SetAlgebra.Difference);

    private static ValueTask Combine(CommandContext context, SetAlgebra algebra)
    {
        var operation = new SetAlgebraOperation(algebra, TypedKeyCommands.OwnedArguments(context, 1), null, context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) => WriteSet(c, op.Members));
    }

    private static ValueTask SInterStore(CommandContext context) => Store(context, SetAlgebra.Intersection);

    private static ValueTask SUnionStore(CommandContext context) => Store(context, SetAlgebra.Union);

    private static ValueTask SDiffStore(CommandContext context) => Store(context, SetAlgebra.Difference);

    private static ValueTask Store(CommandContext context, SetAlgebra algebra)
    {
        var operation = new SetStoreSteps(algebra, TypedKeyCommands.OwnedArguments(context, 2), context.OwnedArgument(1), context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Cardinality));
    }

    /// <summary>SINTERCARD numkeys key [key ...] [LIMIT limit], with redis-server's checks in its order.</summary>
    private static ValueTask SInterCard(CommandContext context)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(1), out long keys) || keys < 1)
        {
            return context.Error("ERR numkeys should be greater than 0");
        }

        if (keys > context.ArgumentCount - 2)
        {
            return context.Error("ERR Number of keys can't be greater than number of args");
        }

        long limit = 0;
        int end = 2 + (int)keys;
        for (int i = end; i < context.ArgumentCount; i++)
        {
            if (!context.ArgumentIs(i, "LIMIT") || i + 1 >= context.ArgumentCount)
            {
                return context.SyntaxError();
            }

            i++;
            if (!RespNumbers.TryParseInt64(context.Argument(i), out limit) || limit < 0)
            {
                return context.Error("ERR LIMIT can't be negative");
            }
        }

        var operation = new SetAlgebraOperation(SetAlgebra.Intersection, TypedKeyCommands.OwnedArguments(context, 2, end), null, context.Server.Actor)
        {
            CountUpTo = limit,
        };
        return TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Cardinality));
    }

    private static void WriteSet(CommandContext context, List<byte[]> members)
    {
        context.Writer.WriteSetHeader(members.Count);
        foreach (byte[] member in members)
        {
            context.Writer.WriteBulk(member);
        }
    }
}
