using System.Buffers.Text;
using System.Globalization;
using Dynamite.Core.DataTypes;

namespace Dynamite.Protocols.Resp.Commands.TypedKeys;

/// <summary>
/// What the commands that walk a typed key rather than name its elements share: a scan in element-name order resumed
/// through <see cref="ElementScanCursors"/> (HSCAN, SSCAN), and random picks over the whole key (HRANDFIELD,
/// SRANDMEMBER, SPOP), with redis-server's replies and errors.
/// </summary>
internal static class ElementIteration
{
    private const int DefaultScanCount = 10;

    /// <summary>The most elements one random pick with a negative count returns (Redis has no bound but memory).</summary>
    private const int MaxRandomPicks = 10_000_000;

    /// <summary>
    /// HSCAN and SSCAN: <c>key cursor [MATCH pattern] [COUNT count]</c>. Each element is written as its name, then its
    /// rendered value when <paramref name="render"/> is given (a hash's field).
    /// </summary>
    public static ValueTask Scan(CommandContext context, DataType type, Func<byte[], byte[]>? render)
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
        if (cursor != 0 && optionError is null && !context.Server.ElementScanCursors.TryResume(cursor, key, out after))
        {
            optionError = RespErrors.InvalidCursor;
        }

        var operation = new ElementReadOperation(key, type, ElementReadMode.Page, render, after: after, limit: optionError is null ? (int)Math.Min(count, 100_000) : 1)
        {
            Error = optionError,
        };
        bool withValues = render is not null;
        return context.Apply(operation, (c, op) =>
        {
            if (op.WrongType || (op.Exists && op.Error is not null))
            {
                c.Writer.WriteError(op.WrongType ? RespErrors.WrongType : op.Error!);
                return;
            }

            WriteScanPage(c, op, withValues);
        });
    }

    private static void WriteScanPage(CommandContext context, ElementReadOperation op, bool withValues)
    {
        byte[]? pattern = null;
        for (int i = 3; i + 1 < context.ArgumentCount; i += 2)
        {
            if (context.ArgumentIs(i, "MATCH"))
            {
                pattern = GlobPattern.MatchesAll(context.Argument(i + 1)) ? null : context.Argument(i + 1).ToArray();
            }
        }

        var matched = new List<int>(op.ElementNames.Count);
        for (int i = 0; i < op.ElementNames.Count; i++)
        {
            if (pattern is null || GlobPattern.IsMatch(pattern, op.ElementNames[i]))
            {
                matched.Add(i);
            }
        }

        ulong next = op.ResumeAfter is { } resume ? context.Server.ElementScanCursors.Issue(context.OwnedArgument(1), resume) : 0;
        context.Writer.WriteArrayHeader(2);
        context.Writer.WriteBulk(next.ToString(CultureInfo.InvariantCulture));
        context.Writer.WriteArrayHeader(withValues ? matched.Count * 2 : matched.Count);
        foreach (int i in matched)
        {
            context.Writer.WriteBulk(op.ElementNames[i]);
            if (withValues)
            {
                context.Writer.WriteBulk(op.Values[i]!);
            }
        }
    }

    /// <summary>
    /// Parses HRANDFIELD's or SRANDMEMBER's count (argument 2) with redis-server's range checks: -LONG_MAX..LONG_MAX,
    /// and with values (<paramref name="pairs"/>) a size that leaves room for twice as many reply elements. Null when
    /// it is valid, else the error to answer.
    /// </summary>
    public static string? ParseRandomCount(CommandContext context, bool pairs, out long count)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(2), out count))
        {
            return RespErrors.NotInteger;
        }

        if (count == long.MinValue)
        {
            return "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
        }

        if (pairs && (count < -(long.MaxValue / 2) || count > long.MaxValue / 2))
        {
            return "ERR value is out of range";
        }

        // Redis would build a reply of that many elements; one reply here is bounded.
        return count < -MaxRandomPicks ? $"ERR {context.Command.Name} count must not be below -{MaxRandomPicks} on this server" : null;
    }

    /// <summary>HRANDFIELD's and SRANDMEMBER's answer without a count: one name at random, or null when there is none.</summary>
    public static void WriteRandomName(CommandContext context, List<byte[]> names)
    {
        if (names.Count == 0)
        {
            context.Writer.WriteNull();
        }
        else
        {
            context.Writer.WriteBulk(names[Random.Shared.Next(names.Count)]);
        }
    }

    /// <summary>
    /// Indexes into <paramref name="total"/> elements: distinct ones in random order (at most all of them) when
    /// <paramref name="requested"/> is positive, |requested| picks that may repeat when negative.
    /// </summary>
    public static int[] RandomPicks(int total, long requested)
    {
        if (total == 0 || requested == 0)
        {
            return [];
        }

        if (requested > 0)
        {
            int[] all = [.. Enumerable.Range(0, total)];
            Random.Shared.Shuffle(all);
            return all[..(int)Math.Min(requested, total)];
        }

        int[] picks = new int[checked((int)-requested)];
        for (int i = 0; i < picks.Length; i++)
        {
            picks[i] = Random.Shared.Next(total);
        }

        return picks;
    }
}
