using Dynamite.Core.DataTypes;
using Dynamite.Protocols.Resp.Commands.SortedSetOperations;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// Sorted-set commands, with redis-server 7.0's arguments, replies and errors. A member is an element of the key whose
/// register holds its score (<see cref="SortedSetScore"/>); writes run as deltas (<see cref="SortedSetChange"/>) on a
/// standalone node and a cluster alike, reads as one consistent read of the key (on a cluster, a quorum read), and the
/// commands over several keys as steps on a cluster (docs/DATA-TYPES.md, "Sorted sets").
/// </summary>
internal static class SortedSetCommands
{
    private const CommandFlags WriteFlags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
    private const CommandFlags ReadFlags = CommandFlags.ReadOnly | CommandFlags.Fast;
    private const string Group = "sorted-set";

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("ZADD", -4, WriteFlags, 1, 1, 1, Group, "1.2.0", "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", ZAdd),
        new("ZINCRBY", 4, WriteFlags, 1, 1, 1, Group, "1.2.0", "Increments the score of a member in a sorted set.", ZIncrBy),
        new("ZREM", -3, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, Group, "1.2.0", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", ZRem),
        new("ZSCORE", 3, ReadFlags, 1, 1, 1, Group, "1.2.0", "Returns the score of a member in a sorted set.", ZScore),
        new("ZMSCORE", -3, ReadFlags, 1, 1, 1, Group, "6.2.0", "Returns the score of one or more members in a sorted set.", ZMScore),
        new("ZCARD", 2, ReadFlags, 1, 1, 1, Group, "1.2.0", "Returns the number of members in a sorted set.", ZCard),
        new("ZCOUNT", 4, ReadFlags, 1, 1, 1, Group, "2.0.0", "Returns the count of members in a sorted set that have scores within a range.", ZCount),
        new("ZLEXCOUNT", 4, ReadFlags, 1, 1, 1, Group, "2.8.9", "Returns the number of members in a sorted set within a lexicographical range.", ZLexCount),
        new("ZRANK", 3, ReadFlags, 1, 1, 1, Group, "2.0.0", "Returns the index of a member in a sorted set ordered by ascending scores.", static c => ZRank(c, reverse: false)),
        new("ZREVRANK", 3, ReadFlags, 1, 1, 1, Group, "2.0.0", "Returns the index of a member in a sorted set ordered by descending scores.", static c => ZRank(c, reverse: true)),
        new("ZRANGE", -4, CommandFlags.ReadOnly, 1, 1, 1, Group, "1.2.0", "Returns members in a sorted set within a range of indexes.", static c => ZRange(c, RangeForm.Any)),
        new("ZREVRANGE", -4, CommandFlags.ReadOnly, 1, 1, 1, Group, "1.2.0", "Returns members in a sorted set within a range of indexes in reverse order.", static c => ZRange(c, RangeForm.RankReversed)),
        new("ZRANGEBYSCORE", -4, CommandFlags.ReadOnly, 1, 1, 1, Group, "1.0.5", "Returns members in a sorted set within a range of scores.", static c => ZRange(c, RangeForm.Score)),
        new("ZREVRANGEBYSCORE", -4, CommandFlags.ReadOnly, 1, 1, 1, Group, "2.2.0", "Returns members in a sorted set within a range of scores in reverse order.", static c => ZRange(c, RangeForm.ScoreReversed)),
        new("ZRANGEBYLEX", -4, CommandFlags.ReadOnly, 1, 1, 1, Group, "2.8.9", "Returns members in a sorted set within a lexicographical range.", static c => ZRange(c, RangeForm.Lex)),
        new("ZREVRANGEBYLEX", -4, CommandFlags.ReadOnly, 1, 1, 1, Group, "2.8.9", "Returns members in a sorted set within a lexicographical range in reverse order.", static c => ZRange(c, RangeForm.LexReversed)),
        new("ZRANGESTORE", -5, CommandFlags.Write | CommandFlags.DenyOom, 1, 2, 1, Group, "6.2.0", "Stores a range of members from sorted set in a key.", ZRangeStore),
        new("ZREMRANGEBYRANK", 4, CommandFlags.Write, 1, 1, 1, Group, "2.0.0", "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", static c => ZRemRange(c, SortedSetQueryKind.Rank)),
        new("ZREMRANGEBYSCORE", 4, CommandFlags.Write, 1, 1, 1, Group, "1.2.0", "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", static c => ZRemRange(c, SortedSetQueryKind.Score)),
        new("ZREMRANGEBYLEX", 4, CommandFlags.Write, 1, 1, 1, Group, "2.8.9", "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", static c => ZRemRange(c, SortedSetQueryKind.Lex)),
        new("ZPOPMIN", -2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, Group, "5.0.0", "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", static c => ZPop(c, highest: false)),
        new("ZPOPMAX", -2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, Group, "5.0.0", "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", static c => ZPop(c, highest: true)),
        new("ZMPOP", -4, CommandFlags.Write, 0, 0, 0, Group, "7.0.0", "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", ZMPop) { KeyCountAt = 1 },
        new("ZRANDMEMBER", -2, CommandFlags.ReadOnly, 1, 1, 1, Group, "6.2.0", "Returns one or more random members from a sorted set.", ZRandMember),
        new("ZSCAN", -3, CommandFlags.ReadOnly, 1, 1, 1, Group, "2.8.0", "Iterates over members and scores of a sorted set.", ZScan),
        new("ZUNION", -3, CommandFlags.ReadOnly, 0, 0, 0, Group, "6.2.0", "Returns the union of multiple sorted sets.", static c => Combine(c, SortedSetAlgebra.Union, store: false)) { KeyCountAt = 1 },
        new("ZINTER", -3, CommandFlags.ReadOnly, 0, 0, 0, Group, "6.2.0", "Returns the intersect of multiple sorted sets.", static c => Combine(c, SortedSetAlgebra.Intersection, store: false)) { KeyCountAt = 1 },
        new("ZDIFF", -3, CommandFlags.ReadOnly, 0, 0, 0, Group, "6.2.0", "Returns the difference between multiple sorted sets.", static c => Combine(c, SortedSetAlgebra.Difference, store: false)) { KeyCountAt = 1 },
        new("ZUNIONSTORE", -4, CommandFlags.Write | CommandFlags.DenyOom, 1, 1, 1, Group, "2.0.0", "Stores the union of multiple sorted sets in a key.", static c => Combine(c, SortedSetAlgebra.Union, store: true)) { KeyCountAt = 2 },
        new("ZINTERSTORE", -4, CommandFlags.Write | CommandFlags.DenyOom, 1, 1, 1, Group, "2.0.0", "Stores the intersect of multiple sorted sets in a key.", static c => Combine(c, SortedSetAlgebra.Intersection, store: true)) { KeyCountAt = 2 },
        new("ZDIFFSTORE", -4, CommandFlags.Write | CommandFlags.DenyOom, 1, 1, 1, Group, "6.2.0", "Stores the difference of multiple sorted sets in a key.", static c => Combine(c, SortedSetAlgebra.Difference, store: true)) { KeyCountAt = 2 },
        new("ZINTERCARD", -3, CommandFlags.ReadOnly, 0, 0, 0, Group, "7.0.0", "Returns the number of members of the intersect of multiple sorted sets.", ZInterCard) { KeyCountAt = 1 },
    ];

    /// <summary>Which of the range commands: ZRANGE takes its form from its options; the older commands name it.</summary>
    private enum RangeForm
    {
        Any,
        RankReversed,
        Score,
        ScoreReversed,
        Lex,
        LexReversed,
    }

    private static ValueTask ZAdd(CommandContext context)
    {
        SortedSetAddFlags flags = SortedSetAddFlags.None;
        int first = 2;
        for (; first < context.ArgumentCount; first++)
        {
            SortedSetAddFlags flag = context.ArgumentIs(first, "NX") ? SortedSetAddFlags.OnlyNew
                : context.ArgumentIs(first, "XX") ? SortedSetAddFlags.OnlyExisting
                : context.ArgumentIs(first, "CH") ? SortedSetAddFlags.CountChanged
                : context.ArgumentIs(first, "INCR") ? SortedSetAddFlags.Increment
                : context.ArgumentIs(first, "GT") ? SortedSetAddFlags.OnlyGreater
                : context.ArgumentIs(first, "LT") ? SortedSetAddFlags.OnlyLess
                : SortedSetAddFlags.None;
            if (flag == SortedSetAddFlags.None)
            {
                break;
            }

            flags |= flag;
        }

        int remaining = context.ArgumentCount - first;
        if (remaining == 0 || remaining % 2 != 0)
        {
            return context.SyntaxError();
        }

        bool nx = (flags & SortedSetAddFlags.OnlyNew) != 0;
        bool gt = (flags & SortedSetAddFlags.OnlyGreater) != 0;
        bool lt = (flags & SortedSetAddFlags.OnlyLess) != 0;
        if (nx && (flags & SortedSetAddFlags.OnlyExisting) != 0)
        {
            return context.Error("ERR XX and NX options at the same time are not compatible");
        }

        if ((gt && nx) || (lt && nx) || (gt && lt))
        {
            return context.Error("ERR GT, LT, and/or NX options at the same time are not compatible");
        }

        if ((flags & SortedSetAddFlags.Increment) != 0 && remaining > 2)
        {
            return context.Error("ERR INCR option supports a single increment-element pair");
        }

        return Add(context, first, flags);
    }

    private static ValueTask ZIncrBy(CommandContext context) => Add(context, 2, SortedSetAddFlags.Increment);

    /// <summary>The score and member pairs from argument <paramref name="first"/> on, every score checked before anything changes.</summary>
    private static ValueTask Add(CommandContext context, int first, SortedSetAddFlags flags)
    {
        var pairs = new ScoredMember[(context.ArgumentCount - first) / 2];
        for (int i = 0; i < pairs.Length; i++)
        {
            if (!SortedSetScore.TryParse(context.Argument(first + (2 * i)), out double score))
            {
                return context.Error(RespErrors.NotFloat);
            }

            if (context.Argument(first + (2 * i) + 1).Length > context.Server.Options.Limits.MaxValueBytes)
            {
                return context.Error(RespErrors.ValueTooLarge);
            }

            pairs[i] = new ScoredMember(context.OwnedArgument(first + (2 * i) + 1), score);
        }

        var operation = new SortedSetAddOperation(context.OwnedArgument(1), pairs, flags, context.Server.Actor);
        bool increment = (flags & SortedSetAddFlags.Increment) != 0;
        bool countChanged = (flags & SortedSetAddFlags.CountChanged) != 0;
        return TypedKeyCommands.Apply(context, operation, (c, op) =>
        {
            if (op.Error is not null)
            {
                c.Writer.WriteError(op.Error);
            }
            else if (!increment)
            {
                c.Writer.WriteInteger(countChanged ? op.Added + op.Updated : op.Added);
            }
            else if (op.IncrementResult is { } score)
            {
                SortedSetScore.Write(c.Writer, score);
            }
            else
            {
                // A condition (NX, XX, GT, LT) left the member alone.
                c.Writer.WriteNull();
            }
        });
    }

    private static ValueTask ZRem(CommandContext context)
    {
        var operation = SortedSetTakeOperation.Named(context.OwnedArgument(1), TypedKeyCommands.OwnedArguments(context, 2), context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Removed));
    }

    private static SortedSetRead Read(CommandContext context, ElementReadMode mode, byte[][]? names = null) => new(context.OwnedArgument(1), mode, names);

    private static ValueTask ZScore(CommandContext context) =>
        TypedKeyCommands.Apply(context, Read(context, ElementReadMode.Named, [context.OwnedArgument(2)]), static (c, op) =>
        {
            if (op.Scores.Count > 0 && op.Scores[0] is { } score)
            {
                SortedSetScore.Write(c.Writer, score);
            }
            else
            {
                c.Writer.WriteNull();
            }
        });

    private static ValueTask ZMScore(CommandContext context) =>
        TypedKeyCommands.Apply(context, Read(context, ElementReadMode.Named, TypedKeyCommands.OwnedArguments(context, 2)), static (c, op) =>
        {
            int count = c.ArgumentCount - 2;
            c.Writer.WriteArrayHeader(count);
            for (int i = 0; i < count; i++)
            {
                if (i < op.Scores.Count && op.Scores[i] is { } score)
                {
                    SortedSetScore.Write(c.Writer, score);
                }
                else
                {
                    c.Writer.WriteNull();
                }
            }
        });

    private static ValueTask ZCard(CommandContext context) =>
        TypedKeyCommands.Apply(context, Read(context, ElementReadMode.Length), static (c, op) => c.Writer.WriteInteger(op.Length));

    private static ValueTask ZCount(CommandContext context)
    {
        if (!ScoreRange.TryParse(context.Argument(2), context.Argument(3), out ScoreRange range))
        {
            return context.Error(ScoreRange.ParseError);
        }

        return CountInRange(context, SortedSetQuery.ByScore(range, reverse: false));
    }

    private static ValueTask ZLexCount(CommandContext context)
    {
        if (!LexRange.TryParse(context.Argument(2), context.Argument(3), out LexRange range))
        {
            return context.Error(LexRange.ParseError);
        }

        return CountInRange(context, SortedSetQuery.ByLex(range, reverse: false));
    }

    private static ValueTask CountInRange(CommandContext context, SortedSetQuery query) =>
        TypedKeyCommands.Apply(
            context,
            new SortedSetRangeRead(context.OwnedArgument(1), SortedSetRangeAnswer.Count, query),
            static (c, op) => c.Writer.WriteInteger(op.Count));

    private static ValueTask ZRank(CommandContext context, bool reverse)
    {
        var read = new SortedSetRangeRead(context.OwnedArgument(1), SortedSetRangeAnswer.Rank, null, context.OwnedArgument(2));
        return TypedKeyCommands.Apply(context, read, (c, op) =>
        {
            if (op.Rank is not { } rank)
            {
                c.Writer.WriteNull();
            }
            else
            {
                c.Writer.WriteInteger(reverse ? op.Length - 1 - rank : rank);
            }
        });
    }

    /// <summary>The query of a range command whose source key is at <paramref name="source"/>; an error when its arguments are wrong.</summary>
    private static string? ParseRange(CommandContext context, int source, RangeForm form, bool store, out SortedSetQuery query, out bool withScores)
    {
        query = SortedSetQuery.ByRank(0, 0, false);
        withScores = false;
        bool reverse = form is RangeForm.RankReversed or RangeForm.ScoreReversed or RangeForm.LexReversed;
        SortedSetQueryKind? kind = form switch
        {
            RangeForm.Any => null,
            RangeForm.RankReversed => SortedSetQueryKind.Rank,
            RangeForm.Score or RangeForm.ScoreReversed => SortedSetQueryKind.Score,
            _ => SortedSetQueryKind.Lex,
        };
        long offset = 0, count = -1;
        bool limited = false;
        for (int j = source + 3; j < context.ArgumentCount; j++)
        {
            int left = context.ArgumentCount - j - 1;
            if (!store && context.ArgumentIs(j, "WITHSCORES"))
            {
                withScores = true;
            }
            else if (context.ArgumentIs(j, "LIMIT") && left >= 2)
            {
                if (!RespNumbers.TryParseInt64(context.Argument(j + 1), out offset) || !RespNumbers.TryParseInt64(context.Argument(j + 2), out count))
                {
                    return RespErrors.NotInteger;
                }

                limited = true;
                j += 2;
            }
            else if (form == RangeForm.Any && context.ArgumentIs(j, "REV"))
            {
                reverse = true;
            }
            else if (form == RangeForm.Any && kind is null && context.ArgumentIs(j, "BYLEX"))
            {
                kind = SortedSetQueryKind.Lex;
            }
            else if (form == RangeForm.Any && kind is null && context.ArgumentIs(j, "BYSCORE"))
            {
                kind = SortedSetQueryKind.Score;
            }
            else
            {
                return RespErrors.Syntax;
            }
        }

        kind ??= SortedSetQueryKind.Rank;
        if (limited && count != -1 && kind == SortedSetQueryKind.Rank)
        {
            return "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
        }

        if (withScores && kind == SortedSetQueryKind.Lex)
        {
            return "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
        }

        // A reversed score or lex range is written max first.
        bool swapped = reverse && kind != SortedSetQueryKind.Rank;
        ReadOnlySpan<byte> low = context.Argument(source + (swapped ? 2 : 1));
        ReadOnlySpan<byte> high = context.Argument(source + (swapped ? 1 : 2));

        switch (kind)
        {
            case SortedSetQueryKind.Rank:
                if (!RespNumbers.TryParseInt64(low, out long start) || !RespNumbers.TryParseInt64(high, out long stop))
                {
                    return RespErrors.NotInteger;
                }

                query = SortedSetQuery.ByRank(start, stop, reverse);
                return null;
            case SortedSetQueryKind.Score:
                if (!ScoreRange.TryParse(low, high, out ScoreRange scores))
                {
                    return ScoreRange.ParseError;
                }

                query = SortedSetQuery.ByScore(scores, reverse) with { Offset = offset, Count = count };
                return null;
            default:
                if (!LexRange.TryParse(low, high, out LexRange members))
                {
                    return LexRange.ParseError;
                }

                query = SortedSetQuery.ByLex(members, reverse) with { Offset = offset, Count = count };
                return null;
        }
    }

    private static ValueTask ZRange(CommandContext context, RangeForm form)
    {
        if (ParseRange(context, 1, form, store: false, out SortedSetQuery query, out bool withScores) is { } error)
        {
            return context.Error(error);
        }

        return TypedKeyCommands.Apply(context, new SortedSetRangeRead(context.OwnedArgument(1), SortedSetRangeAnswer.Members, query), (c, op) =>
            WriteMembers(c, op.Selected, withScores));
    }

    private static ValueTask ZRangeStore(CommandContext context)
    {
        if (ParseRange(context, 2, RangeForm.Any, store: true, out SortedSetQuery query, out _) is { } error)
        {
            return context.Error(error);
        }

        var read = new SortedSetRangeRead(context.OwnedArgument(2), SortedSetRangeAnswer.Members, query);
        var operation = new SortedSetStoreSteps(read, () => read.Selected, context.OwnedArgument(1), context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Cardinality));
    }

    private static ValueTask ZRemRange(CommandContext context, SortedSetQueryKind kind)
    {
        SortedSetQuery query;
        switch (kind)
        {
            case SortedSetQueryKind.Rank:
                if (!RespNumbers.TryParseInt64(context.Argument(2), out long start) || !RespNumbers.TryParseInt64(context.Argument(3), out long stop))
                {
                    return context.Error(RespErrors.NotInteger);
                }

                query = SortedSetQuery.ByRank(start, stop, reverse: false);
                break;
            case SortedSetQueryKind.Score:
                if (!ScoreRange.TryParse(context.Argument(2), context.Argument(3), out ScoreRange scores))
                {
                    return context.Error(ScoreRange.ParseError);
                }

                query = SortedSetQuery.ByScore(scores, reverse: false);
                break;
            default:
                if (!LexRange.TryParse(context.Argument(2), context.Argument(3), out LexRange members))
                {
                    return context.Error(LexRange.ParseError);
                }

                query = SortedSetQuery.ByLex(members, reverse: false);
                break;
        }

        var operation = SortedSetTakeOperation.InRange(context.OwnedArgument(1), query, context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Removed));
    }

    private static ValueTask ZPop(CommandContext context, bool highest)
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

        var operation = SortedSetTakeOperation.Pop(context.OwnedArgument(1), count, highest, context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) =>
        {
            // RESP3 nests each member with its score when a count was given; RESP2 and a single pop answer flat.
            bool nested = c.Writer.IsResp3 && c.ArgumentCount == 3;
            WritePairs(c, op.Popped, nested);
        });
    }

    private static ValueTask ZMPop(CommandContext context)
    {
        if (MultiPopArguments.Parse(context, 1, "MIN", "MAX", out byte[][] keys, out bool lowest, out long count) is { } error)
        {
            return context.Error(error);
        }

        var operation = SortedSetTakeOperation.PopFirstOf(keys, !lowest, count, context.Server.Actor);
        return TypedKeyCommands.Apply(context, operation, static (c, op) =>
        {
            if (op.PoppedKey is not { } key)
            {
                c.Writer.WriteNullArray();
                return;
            }

            c.Writer.WriteArrayHeader(2);
            c.Writer.WriteBulk(key);
            WritePairs(c, op.Popped, nested: true);
        });
    }

    private static ValueTask ZRandMember(CommandContext context)
    {
        if (context.ArgumentCount >= 3)
        {
            // As redis-server: the count's own errors first, then the options', then the count's range with scores.
            if (RespNumbers.TryParseInt64(context.Argument(2), out long requested) && requested != long.MinValue
                && (context.ArgumentCount > 4 || (context.ArgumentCount == 4 && !context.ArgumentIs(3, "WITHSCORES"))))
            {
                return context.SyntaxError();
            }

            if (ElementIteration.ParseRandomCount(context, pairs: context.ArgumentCount == 4, out _) is { } error)
            {
                return context.Error(error);
            }
        }

        return TypedKeyCommands.Apply(context, Read(context, ElementReadMode.All), static (c, op) =>
        {
            if (c.ArgumentCount == 2)
            {
                if (op.Sorted.Count == 0)
                {
                    c.Writer.WriteNull();
                }
                else
                {
                    c.Writer.WriteBulk(op.Sorted[Random.Shared.Next(op.Sorted.Count)].Member);
                }

                return;
            }

            _ = RespNumbers.TryParseInt64(c.Argument(2), out long requested);
            int[] picks = ElementIteration.RandomPicks(op.Sorted.Count, requested);
            WriteMembers(c, op.Sorted, picks, withScores: c.ArgumentCount == 4);
        });
    }

    private static ValueTask ZScan(CommandContext context) =>
        ElementIteration.Scan(context, DataType.SortedSet, static encoded => SortedSetScore.FormatBytes(SortedSetScore.OfEncodedState(encoded)));

    private static ValueTask Combine(CommandContext context, SortedSetAlgebra algebra, bool store)
    {
        int countAt = store ? 2 : 1;
        if (ParseKeyCount(context, countAt, out int end) is { } error)
        {
            return context.Error(error);
        }

        int keys = end - countAt - 1;
        double[]? weights = null;
        ScoreAggregate aggregate = ScoreAggregate.Sum;
        bool withScores = false;
        for (int j = end; j < context.ArgumentCount;)
        {
            int remaining = context.ArgumentCount - j;
            if (algebra != SortedSetAlgebra.Difference && remaining >= keys + 1 && context.ArgumentIs(j, "WEIGHTS"))
            {
                j++;
                weights = new double[keys];
                for (int i = 0; i < keys; i++, j++)
                {
                    if (!SortedSetScore.TryParse(context.Argument(j), out weights[i]))
                    {
                        return context.Error("ERR weight value is not a float");
                    }
                }
            }
            else if (algebra != SortedSetAlgebra.Difference && remaining >= 2 && context.ArgumentIs(j, "AGGREGATE"))
            {
                if (context.ArgumentIs(j + 1, "SUM"))
                {
                    aggregate = ScoreAggregate.Sum;
                }
                else if (context.ArgumentIs(j + 1, "MIN"))
                {
                    aggregate = ScoreAggregate.Min;
                }
                else if (context.ArgumentIs(j + 1, "MAX"))
                {
                    aggregate = ScoreAggregate.Max;
                }
                else
                {
                    return context.SyntaxError();
                }

                j += 2;
            }
            else if (!store && context.ArgumentIs(j, "WITHSCORES"))
            {
                withScores = true;
                j++;
            }
            else
            {
                return context.SyntaxError();
            }
        }

        var read = new SortedSetAlgebraRead(algebra, TypedKeyCommands.OwnedArguments(context, countAt + 1, end), weights, aggregate);
        if (store)
        {
            var operation = new SortedSetStoreSteps(read, () => read.Result, context.OwnedArgument(1), context.Server.Actor);
            return TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Cardinality));
        }

        return TypedKeyCommands.Apply(context, read, (c, op) => WriteMembers(c, op.Result, withScores));
    }

    /// <summary>ZINTERCARD numkeys key [key ...] [LIMIT limit], with the checks redis-server shares with ZINTER.</summary>
    private static ValueTask ZInterCard(CommandContext context)
    {
        if (ParseKeyCount(context, 1, out int end) is { } error)
        {
            return context.Error(error);
        }

        long limit = 0;
        for (int j = end; j < context.ArgumentCount; j += 2)
        {
            if (!context.ArgumentIs(j, "LIMIT") || j + 1 >= context.ArgumentCount)
            {
                return context.SyntaxError();
            }

            if (!RespNumbers.TryParseInt64(context.Argument(j + 1), out limit) || limit < 0)
            {
                return context.Error("ERR LIMIT can't be negative");
            }
        }

        var operation = new SortedSetAlgebraRead(SortedSetAlgebra.Intersection, TypedKeyCommands.OwnedArguments(context, 2, end), null, ScoreAggregate.Sum)
        {
            CountUpTo = limit,
        };
        return TypedKeyCommands.Apply(context, operation, static (c, op) => c.Writer.WriteInteger(op.Cardinality));
    }

    /// <summary>The key count at <paramref name="countAt"/> and where the keys after it end; an error when it is wrong.</summary>
    private static string? ParseKeyCount(CommandContext context, int countAt, out int end)
    {
        end = 0;
        if (!RespNumbers.TryParseInt64(context.Argument(countAt), out long keys))
        {
            return RespErrors.NotInteger;
        }

        if (keys < 1)
        {
            return $"ERR at least 1 input key is needed for '{context.Command.LowerName}' command";
        }

        if (keys > context.ArgumentCount - countAt - 1)
        {
            return RespErrors.Syntax;
        }

        end = countAt + 1 + (int)keys;
        return null;
    }

    /// <summary>
    /// Members at <paramref name="selected"/> positions, with their scores when asked: flat in RESP2, each member and
    /// score in an array of their own in RESP3, as redis-server 7.0 answers ZRANGE ... WITHSCORES.
    /// </summary>
    private static void WriteMembers(CommandContext context, IReadOnlyList<ScoredMember> members, IReadOnlyList<int> selected, bool withScores)
    {
        WriteArrayHeader(context, selected.Count, withScores);
        foreach (int index in selected)
        {
            WriteMember(context, members[index], withScores);
        }
    }

    /// <summary>Every one of <paramref name="members"/>, in order.</summary>
    private static void WriteMembers(CommandContext context, List<ScoredMember> members, bool withScores)
    {
        WriteArrayHeader(context, members.Count, withScores);
        foreach (ScoredMember member in members)
        {
            WriteMember(context, member, withScores);
        }
    }

    private static void WriteArrayHeader(CommandContext context, int count, bool withScores) =>
        context.Writer.WriteArrayHeader(withScores && !context.Writer.IsResp3 ? count * 2 : count);

    /// <summary>A member, with its score when asked: beside it, or as a pair of its own under RESP3.</summary>
    private static void WriteMember(CommandContext context, ScoredMember member, bool withScores)
    {
        if (withScores && context.Writer.IsResp3)
        {
            context.Writer.WriteArrayHeader(2);
        }

        context.Writer.WriteBulk(member.Member);
        if (withScores)
        {
            SortedSetScore.Write(context.Writer, member.Score);
        }
    }

    /// <summary>Popped members with their scores: flat, or each pair in an array of its own.</summary>
    private static void WritePairs(CommandContext context, IReadOnlyList<ScoredMember> popped, bool nested)
    {
        context.Writer.WriteArrayHeader(nested ? popped.Count : popped.Count * 2);
        foreach (ScoredMember member in popped)
        {
            if (nested)
            {
                context.Writer.WriteArrayHeader(2);
            }

            context.Writer.WriteBulk(member.Member);
            SortedSetScore.Write(context.Writer, member.Score);
        }
    }
}
