namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>How a <see cref="SortedSetQuery"/> selects members.</summary>
internal enum SortedSetQueryKind
{
    /// <summary>By rank: ZRANGE, ZREVRANGE, ZREMRANGEBYRANK.</summary>
    Rank,

    /// <summary>By score: BYSCORE, ZRANGEBYSCORE, ZCOUNT, ZREMRANGEBYSCORE.</summary>
    Score,

    /// <summary>By member: BYLEX, ZRANGEBYLEX, ZLEXCOUNT, ZREMRANGEBYLEX.</summary>
    Lex,
}

/// <summary>
/// The members a range command selects from a sorted set, in the order it answers them, with redis-server's rules: ranks
/// below zero count from the end and are clamped; a reversed query walks from the highest member; LIMIT's offset skips
/// members (a negative one selects nothing) and a negative count means no limit.
/// </summary>
internal sealed record SortedSetQuery(SortedSetQueryKind Kind, bool Reverse)
{
    public long Start { get; init; }

    public long Stop { get; init; }

    public ScoreRange Scores { get; init; }

    public LexRange Members { get; init; }

    public long Offset { get; init; }

    public long Count { get; init; } = -1;

    public static SortedSetQuery ByRank(long start, long stop, bool reverse) => new(SortedSetQueryKind.Rank, reverse) { Start = start, Stop = stop };

    public static SortedSetQuery ByScore(ScoreRange range, bool reverse) => new(SortedSetQueryKind.Score, reverse) { Scores = range };

    public static SortedSetQuery ByLex(LexRange range, bool reverse) => new(SortedSetQueryKind.Lex, reverse) { Members = range };

    /// <summary>The positions in <paramref name="sorted"/> (ascending order) that the query selects, in answer order.</summary>
    public List<int> Select(IReadOnlyList<ScoredMember> sorted)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        var selected = new List<int>();
        if (Kind == SortedSetQueryKind.Rank)
        {
            if (RankSpan(sorted.Count) is not var (first, last))
            {
                return selected;
            }

            for (long rank = first; rank <= last; rank++)
            {
                selected.Add(Reverse ? sorted.Count - 1 - (int)rank : (int)rank);
            }

            return selected;
        }

        (int low, int high) = MatchingSpan(sorted);
        if (Offset < 0 || low > high)
        {
            return selected;
        }

        long skip = Offset;
        long remaining = Count;
        for (int i = 0; i <= high - low && remaining != 0; i++)
        {
            if (skip > 0)
            {
                skip--;
                continue;
            }

            selected.Add(Reverse ? high - i : low + i);
            remaining--;
        }

        return selected;
    }

    /// <summary>The first and last rank a rank query selects among <paramref name="length"/> members; null when none.</summary>
    public (long First, long Last)? RankSpan(long length)
    {
        long start = Start < 0 ? length + Start : Start;
        long stop = Stop < 0 ? length + Stop : Stop;
        start = Math.Max(start, 0);
        if (start > stop || start >= length)
        {
            return null;
        }

        return (start, Math.Min(stop, length - 1));
    }

    /// <summary>The positions of the members within the score or lex range: a span of the sorted order (low > high: none).</summary>
    public (int Low, int High) MatchingSpan(IReadOnlyList<ScoredMember> sorted)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (Kind == SortedSetQueryKind.Score)
        {
            if (Scores.IsEmpty)
            {
                return (0, -1);
            }

            ScoreRange range = Scores;
            return (PartitionPoint(sorted, m => !range.AboveMin(m.Score)), PartitionPoint(sorted, m => range.BelowMax(m.Score)) - 1);
        }

        if (Members.IsEmpty)
        {
            return (0, -1);
        }

        LexRange lex = Members;
        return (PartitionPoint(sorted, m => !lex.AboveMin(m.Member)), PartitionPoint(sorted, m => lex.BelowMax(m.Member)) - 1);
    }

    /// <summary>The first position whose member does not satisfy <paramref name="before"/> (which holds for a prefix).</summary>
    private static int PartitionPoint(IReadOnlyList<ScoredMember> sorted, Func<ScoredMember, bool> before)
    {
        int low = 0, high = sorted.Count;
        while (low < high)
        {
            int middle = low + ((high - low) / 2);
            if (before(sorted[middle]))
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
