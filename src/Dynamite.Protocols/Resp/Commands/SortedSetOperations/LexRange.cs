namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>
/// A member interval (ZRANGEBYLEX, ZLEXCOUNT, ZREMRANGEBYLEX), as redis-server's <c>zslParseLexRange</c> reads it:
/// <c>-</c> and <c>+</c> are the ends of every range, <c>[m</c> includes m, <c>(m</c> excludes it. Meant for a set
/// whose members share one score, as in Redis.
/// </summary>
internal readonly record struct LexRange(byte[]? Min, bool MinExclusive, bool MinIsPlusInfinity, byte[]? Max, bool MaxExclusive, bool MaxIsMinusInfinity)
{
    public const string ParseError = "ERR min or max not valid string range item";

    public static bool TryParse(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out LexRange range)
    {
        range = default;
        if (!TryParseItem(min, out byte[]? low, out bool lowExclusive, out bool lowPlus, out _) ||
            !TryParseItem(max, out byte[]? high, out bool highExclusive, out _, out bool highMinus))
        {
            return false;
        }

        range = new LexRange(low, lowExclusive, lowPlus, high, highExclusive, highMinus);
        return true;
    }

    /// <summary>True when no member can lie in the interval.</summary>
    public bool IsEmpty
    {
        get
        {
            if (MinIsPlusInfinity || MaxIsMinusInfinity)
            {
                return true;
            }

            if (Min is null || Max is null)
            {
                return false;
            }

            int order = Min.AsSpan().SequenceCompareTo(Max);
            return order > 0 || (order == 0 && (MinExclusive || MaxExclusive));
        }
    }

    public bool AboveMin(byte[] member)
    {
        if (MinIsPlusInfinity)
        {
            return false;
        }

        if (Min is null)
        {
            return true;
        }

        int order = member.AsSpan().SequenceCompareTo(Min);
        return MinExclusive ? order > 0 : order >= 0;
    }

    public bool BelowMax(byte[] member)
    {
        if (MaxIsMinusInfinity)
        {
            return false;
        }

        if (Max is null)
        {
            return true;
        }

        int order = member.AsSpan().SequenceCompareTo(Max);
        return MaxExclusive ? order < 0 : order <= 0;
    }

    public bool Contains(byte[] member) => AboveMin(member) && BelowMax(member);

    /// <summary>One end: "-" (below every member), "+" (above every member), or "[member" / "(member".</summary>
    private static bool TryParseItem(ReadOnlySpan<byte> text, out byte[]? member, out bool exclusive, out bool plusInfinity, out bool minusInfinity)
    {
        member = null;
        exclusive = false;
        plusInfinity = false;
        minusInfinity = false;
        if (text.Length == 1 && text[0] == '+')
        {
            plusInfinity = true;
            return true;
        }

        if (text.Length == 1 && text[0] == '-')
        {
            minusInfinity = true;
            return true;
        }

        if (text.IsEmpty || (text[0] != '(' && text[0] != '['))
        {
            return false;
        }

        exclusive = text[0] == '(';
        member = text[1..].ToArray();
        return true;
    }
}
