using System.Buffers.Text;
using Dynamite.Protocols.Resp.Commands.HashOperations;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// The hash commands that walk a hash rather than name its fields: HRANDFIELD (random picks over the whole hash) and
/// HSCAN (pages in field order, resumed through <see cref="HashScanCursors"/>), with redis-server's replies and errors.
/// </summary>
internal static class HashIterationCommands
{
    private const int DefaultScanCount = 10;

    /// <summary>The most fields one HRANDFIELD with a negative count returns (Redis has no bound but memory).</summary>
    private const int MaxRandomPicks = 10_000_000;

    public static ValueTask HRandField(CommandContext context)
    {
        if (context.ArgumentCount > 4 || (context.ArgumentCount == 4 && !context.ArgumentIs(3, "WITHVALUES")))
        {
            return context.SyntaxError();
        }

        long count = 0;
        if (context.ArgumentCount >= 3 && !RespNumbers.TryParseInt64(context.Argument(2), out count))
        {
            return context.Error(RespErrors.NotInteger);
        }

        // As redis-server: the count's range is -LONG_MAX..LONG_MAX, and with WITHVALUES its size must leave room for
        // twice as many reply elements.
        if (count == long.MinValue)
        {
            return context.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
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

        return HashCommands.ApplyToHash(context, new HashReadOperation(context.OwnedArgument(1), HashReadMode.All), static (c, op) =>
        {
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

    public static ValueTask HScan(CommandContext context)
    {
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
}
