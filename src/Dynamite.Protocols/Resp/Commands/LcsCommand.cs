namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest common subsequence of two strings, with
/// redis-server's dynamic-programming table and its walk back through it, so the subsequence and the matched ranges
/// (last match first) are the ones redis-server answers. The table takes (|a|+1)(|b|+1) 32-bit cells and is refused
/// past proto-max-bulk-len, as redis-server refuses it. Absent keys are empty strings; on a cluster node both keys are
/// quorum reads.
/// </summary>
internal static class LcsCommand
{
    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("LCS", -3, CommandFlags.ReadOnly, 1, 2, 1, "string", "7.0.0", "Finds the longest common substring.", Lcs),
    ];

    private static ValueTask Lcs(CommandContext context)
    {
        if (Parse(context) is { Error: { } error })
        {
            return context.Error(error);
        }

        return context.ReadKeys(1, 2, 1, static (c, results) =>
        {
            if ((results[0].Found && results[0].Record.IsTypedHeader) || (results[1].Found && results[1].Record.IsTypedHeader))
            {
                c.Writer.WriteError("ERR The specified keys must contain string values");
                return;
            }

            byte[] a = results[0].Found ? results[0].Record.Value : [];
            byte[] b = results[1].Found ? results[1].Record.Value : [];
            long cells = (long)(a.Length + 1) * (b.Length + 1);
            if (cells * sizeof(uint) > c.Server.Options.Limits.MaxBulkBytes || cells > Array.MaxLength)
            {
                c.Writer.WriteError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
                return;
            }

            // The options were checked before the read; the arguments are still the request's.
            Answer(c.Writer, a, b, Parse(c));
        });
    }

    /// <summary>The options after the two keys, or the error redis-server gives for them.</summary>
    private static LcsOptions Parse(CommandContext context)
    {
        bool withLength = false, withIndexes = false, withMatchLength = false;
        long minMatchLength = 0;
        for (int i = 3; i < context.ArgumentCount; i++)
        {
            if (context.ArgumentIs(i, "IDX"))
            {
                withIndexes = true;
            }
            else if (context.ArgumentIs(i, "LEN"))
            {
                withLength = true;
            }
            else if (context.ArgumentIs(i, "WITHMATCHLEN"))
            {
                withMatchLength = true;
            }
            else if (context.ArgumentIs(i, "MINMATCHLEN") && i + 1 < context.ArgumentCount)
            {
                if (!RespNumbers.TryParseInt64(context.Argument(++i), out minMatchLength))
                {
                    return new LcsOptions(false, false, false, 0, RespErrors.NotInteger);
                }

                minMatchLength = Math.Max(0, minMatchLength);
            }
            else
            {
                return new LcsOptions(false, false, false, 0, RespErrors.Syntax);
            }
        }

        return withLength && withIndexes
            ? new LcsOptions(false, false, false, 0, "ERR If you want both the length and indexes, please just use IDX.")
            : new LcsOptions(withLength, withIndexes, withMatchLength, minMatchLength, null);
    }

    private static void Answer(RespWriter writer, byte[] a, byte[] b, LcsOptions options)
    {
        int width = b.Length + 1;
        uint[] table = new uint[(a.Length + 1) * width];
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                table[(i * width) + j] = a[i - 1] == b[j - 1]
                    ? table[((i - 1) * width) + j - 1] + 1
                    : Math.Max(table[((i - 1) * width) + j], table[(i * width) + j - 1]);
            }
        }

        int length = (int)table[(a.Length * width) + b.Length];
        if (options.WithLength)
        {
            writer.WriteInteger(length);
            return;
        }

        // The walk back from the table's corner, as redis-server makes it: the subsequence from its end, and each run
        // of contiguous matches as a range in both strings, emitted when the run breaks or reaches a string's start.
        byte[] subsequence = new byte[length];
        var ranges = new List<(int AStart, int AEnd, int BStart, int BEnd)>();
        int index = length, x = a.Length, y = b.Length;
        int aStart = -1, aEnd = 0, bStart = 0, bEnd = 0;
        while (x > 0 && y > 0)
        {
            bool emit = false;
            if (a[x - 1] == b[y - 1])
            {
                subsequence[index - 1] = a[x - 1];
                if (aStart < 0)
                {
                    (aStart, aEnd, bStart, bEnd) = (x - 1, x - 1, y - 1, y - 1);
                }
                else if (aStart == x && bStart == y)
                {
                    aStart--;
                    bStart--;
                }
                else
                {
                    emit = true;
                }

                emit |= aStart == 0 || bStart == 0;
                index--;
                x--;
                y--;
            }
            else
            {
                if (table[((x - 1) * width) + y] > table[(x * width) + y - 1])
                {
                    x--;
                }
                else
                {
                    y--;
                }

                emit |= aStart >= 0;
            }

            if (emit)
            {
                int matchLength = aEnd - aStart + 1;
                if (options.MinMatchLength == 0 || matchLength >= options.MinMatchLength)
                {
                    ranges.Add((aStart, aEnd, bStart, bEnd));
                }

                aStart = -1;
            }
        }

        if (!options.WithIndexes)
        {
            writer.WriteBulk(subsequence);
            return;
        }

        writer.WriteMapHeader(2);
        writer.WriteBulk("matches"u8);
        writer.WriteArrayHeader(ranges.Count);
        foreach ((int rangeAStart, int rangeAEnd, int rangeBStart, int rangeBEnd) in ranges)
        {
            writer.WriteArrayHeader(options.WithMatchLength ? 3 : 2);
            writer.WriteArrayHeader(2);
            writer.WriteInteger(rangeAStart);
            writer.WriteInteger(rangeAEnd);
            writer.WriteArrayHeader(2);
            writer.WriteInteger(rangeBStart);
            writer.WriteInteger(rangeBEnd);
            if (options.WithMatchLength)
            {
                writer.WriteInteger(rangeAEnd - rangeAStart + 1);
            }
        }

        writer.WriteBulk("len"u8);
        writer.WriteInteger(length);
    }

    private sealed record LcsOptions(bool WithLength, bool WithIndexes, bool WithMatchLength, long MinMatchLength, string? Error);
}
