using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>
/// The members a <see cref="SortedSetQuery"/> selects from one sorted set, in answer order, read from the score index
/// (<see cref="ScoreIndex"/>) when the transaction keeps one: a rank window from the nearer end, a score window from its
/// bound, each a few page reads, O(log n + m) (a rank window deep in the set also steps over the ranks before it from
/// the nearer end). A lex query, or a view without an index (a cluster coordinator's join of replicas), reads every
/// member and sorts them, O(n log n).
/// <para>
/// Pages grow (<see cref="FirstPage"/>, doubled each read up to <see cref="LargestPage"/>), so a long walk takes
/// O(log n) reads: an engine that reads a backward page by walking forwards (LMDB's index) then costs O(n log n) for
/// a walk from the top, not O(n) per page.
/// </para>
/// </summary>
internal static class SortedSetWindow
{
    private const int FirstPage = 256;

    private const int LargestPage = 1 << 16;

    /// <summary>The selected members of <paramref name="key"/> (a sorted set of <paramref name="length"/> members, its header read).</summary>
    public static List<ScoredMember> Select(IStorageTransaction transaction, byte[] key, long length, SortedSetQuery query)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(query);
        if (!transaction.KeepsIndex || query.Kind == SortedSetQueryKind.Lex)
        {
            var sorted = new List<ScoredMember>();
            SortedSetRead.ReadSorted(transaction, key, sorted);
            var selected = new List<ScoredMember>();
            foreach (int index in query.Select(sorted))
            {
                selected.Add(sorted[index]);
            }

            return selected;
        }

        return query.Kind == SortedSetQueryKind.Rank ? ByRank(transaction, key, length, query) : ByScore(transaction, key, query, countOnly: false, out _);
    }

    /// <summary>How many members <paramref name="query"/> (a score or lex query without LIMIT) selects.</summary>
    public static long Count(IStorageTransaction transaction, byte[] key, long length, SortedSetQuery query)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(query);
        if (!transaction.KeepsIndex || query.Kind != SortedSetQueryKind.Score)
        {
            var sorted = new List<ScoredMember>();
            SortedSetRead.ReadSorted(transaction, key, sorted);
            (int low, int high) = query.MatchingSpan(sorted);
            return Math.Max(0, high - low + 1);
        }

        ByScore(transaction, key, query, countOnly: true, out long count);
        return count;
    }

    /// <summary>
    /// The rank of <paramref name="member"/> (null when absent) in ascending order: its entry is found by walking from
    /// both ends at once, a page from each in turn, so the cost is twice the distance to the nearer end.
    /// </summary>
    public static long? Rank(IStorageTransaction transaction, byte[] key, long length, byte[] member)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (!transaction.TryReadElement(key, member, out byte[]? encoded))
        {
            return null;
        }

        if (!transaction.KeepsIndex)
        {
            var sorted = new List<ScoredMember>();
            SortedSetRead.ReadSorted(transaction, key, sorted);
            int index = sorted.FindIndex(m => m.Member.AsSpan().SequenceEqual(member));
            return index < 0 ? null : index;
        }

        byte[] entry = ScoreIndex.Entry(SortedSetScore.OfEncodedState(encoded), member);
        byte[]? after = null, before = null;
        long fromStart = 0, fromEnd = 0;
        bool forwardMore = true, backwardMore = true;
        for (int pageSize = FirstPage; forwardMore || backwardMore; pageSize = Grown(pageSize))
        {
            if (forwardMore)
            {
                ElementPage page = transaction.ScanIndex(key, after, pageSize);
                foreach (StoredElement found in page.Elements)
                {
                    if (found.Name.AsSpan().SequenceEqual(entry))
                    {
                        return fromStart;
                    }

                    fromStart++;
                }

                forwardMore = page.HasMore;
                after = page.ResumeAfter;
            }

            if (backwardMore)
            {
                ElementPage page = transaction.ScanIndexBackward(key, before, pageSize);
                foreach (StoredElement found in page.Elements)
                {
                    if (found.Name.AsSpan().SequenceEqual(entry))
                    {
                        return length - 1 - fromEnd;
                    }

                    fromEnd++;
                }

                backwardMore = page.HasMore;
                before = page.Elements.Count > 0 ? page.Elements[^1].Name : before;
            }
        }

        // The element is present but has no entry: only a set stored before the index existed.
        return null;
    }

    private static List<ScoredMember> ByRank(IStorageTransaction transaction, byte[] key, long length, SortedSetQuery query)
    {
        var selected = new List<ScoredMember>();
        if (query.RankSpan(length) is not var (first, last))
        {
            return selected;
        }

        // Ascending positions [low, high]; a reversed query counts its ranks from the top and answers highest first.
        long low = query.Reverse ? length - 1 - last : first;
        long high = query.Reverse ? length - 1 - first : last;
        bool forward = high + 1 <= length - low;
        long skip = forward ? low : length - 1 - high;
        long take = high - low + 1;
        byte[]? bound = null;
        bool more = true;
        for (int pageSize = FirstPage; more && selected.Count < take; pageSize = Grown(pageSize))
        {
            int limit = (int)Math.Min(pageSize, Math.Max(1, skip + take - selected.Count));
            ElementPage page = forward ? transaction.ScanIndex(key, bound, limit) : transaction.ScanIndexBackward(key, bound, limit);
            foreach (StoredElement entry in page.Elements)
            {
                if (skip > 0)
                {
                    skip--;
                }
                else if (selected.Count < take)
                {
                    selected.Add(MemberOf(entry.Name));
                }
            }

            more = page.HasMore;
            bound = page.Elements.Count > 0 ? page.Elements[^1].Name : bound;
        }

        if (forward == query.Reverse)
        {
            selected.Reverse();
        }

        return selected;
    }

    private static List<ScoredMember> ByScore(IStorageTransaction transaction, byte[] key, SortedSetQuery query, bool countOnly, out long count)
    {
        var selected = new List<ScoredMember>();
        count = 0;
        ScoreRange range = query.Scores;
        if (range.IsEmpty || query.Offset < 0)
        {
            return selected;
        }

        bool forward = !query.Reverse;
        byte[]? bound = forward ? ScoreIndex.FirstAtOrAbove(range.Min, range.MinExclusive) : ScoreIndex.LastAtOrBelow(range.Max, range.MaxExclusive);
        long skip = query.Offset;
        long remaining = query.Count;
        bool more = true;
        for (int pageSize = FirstPage; more && remaining != 0; pageSize = Grown(pageSize))
        {
            long wanted = remaining > 0 && remaining <= long.MaxValue - skip ? skip + remaining : long.MaxValue;
            int limit = (int)Math.Max(1, Math.Min(pageSize, wanted));
            ElementPage page = forward ? transaction.ScanIndex(key, bound, limit) : transaction.ScanIndexBackward(key, bound, limit);
            foreach (StoredElement entry in page.Elements)
            {
                double score = ScoreIndex.ScoreOfEntry(entry.Name);
                if (forward ? !range.BelowMax(score) : !range.AboveMin(score))
                {
                    return selected;
                }

                if (skip > 0)
                {
                    skip--;
                    continue;
                }

                count++;
                if (!countOnly)
                {
                    selected.Add(new ScoredMember(ScoreIndex.MemberOfEntry(entry.Name).ToArray(), score));
                }

                if (remaining > 0 && --remaining == 0)
                {
                    return selected;
                }
            }

            more = page.HasMore;
            bound = page.Elements.Count > 0 ? page.Elements[^1].Name : bound;
        }

        return selected;
    }

    private static int Grown(int pageSize) => Math.Min(LargestPage, pageSize * 2);

    private static ScoredMember MemberOf(byte[] entry) => new(ScoreIndex.MemberOfEntry(entry).ToArray(), ScoreIndex.ScoreOfEntry(entry));
}
