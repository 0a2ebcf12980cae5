namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>
/// A score interval (ZRANGEBYSCORE, ZCOUNT, ZREMRANGEBYSCORE), each end inclusive unless written with a leading
/// <c>(</c>, as redis-server's <c>zslParseRange</c> reads it.
/// </summary>
internal readonly record struct ScoreRange(double Min, bool MinExclusive, double Max, bool MaxExclusive)
{
    public const string ParseError = "ERR min or max is not a float";

    public static bool TryParse(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out ScoreRange range)
    {
        range = default;
        if (!TryParseBound(min, out double low, out bool lowExclusive) || !TryParseBound(max, out double high, out bool highExclusive))
        {
            return false;
        }

        range = new ScoreRange(low, lowExclusive, high, highExclusive);
        return true;
    }

    /// <summary>True when no score can lie in the interval (Redis answers such a range empty at once).</summary>
    public bool IsEmpty => Min > Max || (Min == Max && (MinExclusive || MaxExclusive));

    public bool AboveMin(double score) => MinExclusive ? score > Min : score >= Min;

    public bool BelowMax(double score) => MaxExclusive ? score < Max : score <= Max;

    public bool Contains(double score) => AboveMin(score) && BelowMax(score);

    private static bool TryParseBound(ReadOnlySpan<byte> text, out double value, out bool exclusive)
    {
        exclusive = !text.IsEmpty && text[0] == '(';
        return SortedSetScore.TryParseStrtod(exclusive ? text[1..] : text, out value);
    }
}
