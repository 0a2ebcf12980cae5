using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>What a <see cref="SortedSetRangeRead"/> answers.</summary>
internal enum SortedSetRangeAnswer
{
    /// <summary>The members the query selects, in answer order (ZRANGE and its forms, ZRANGESTORE's source).</summary>
    Members,

    /// <summary>How many members the query selects (ZCOUNT, ZLEXCOUNT).</summary>
    Count,

    /// <summary>One member's rank (ZRANK, ZREVRANK).</summary>
    Rank,
}

/// <summary>
/// A range read of one sorted set through its score index where the node keeps one (<see cref="SortedSetWindow"/>). On a
/// cluster node, a window at one end of the score order (ranks counted from that end, or a score range with a LIMIT) is
/// read as the members of the primaries' first index entries from that end (<see cref="IndexWindow"/>), a few more than
/// the window holds; any other range (negative ranks, a range without a LIMIT, a count, a rank) reads every member.
/// Either way it runs over the quorum read's join.
/// </summary>
internal sealed class SortedSetRangeRead(byte[] key, SortedSetRangeAnswer answer, SortedSetQuery? query, byte[]? member = null) : ITypedKeyOperation, IElementReadOperation
{
    public int TouchedKeyCount => 1;

    public byte[] Key => key;

    public IReadOnlyList<byte[]>? Names => null;

    public byte[]? After => null;

    public int Limit => 0;

    public ElementSelection? IndexWindow => answer == SortedSetRangeAnswer.Members && query is not null ? WindowOf(query) : null;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool WrongType { get; private set; }

    /// <summary>The selected members, in answer order.</summary>
    public List<ScoredMember> Selected { get; private set; } = [];

    /// <summary>Count's answer.</summary>
    public long Count { get; private set; }

    /// <summary>Rank's answer in ascending order (null: no such member), with the set's length to turn it around.</summary>
    public long? Rank { get; private set; }

    public long Length { get; private set; }

    /// <summary>Entries read beyond a window's members from each primary, for members whose score differs between them.</summary>
    private const int WindowSlack = 16;

    private static ElementSelection? WindowOf(SortedSetQuery query)
    {
        long limit;
        byte[]? bound = null;
        switch (query.Kind)
        {
            // Bounded first, so that the sums cannot overflow.
            case SortedSetQueryKind.Rank when query.Start >= 0 && query.Stop >= query.Start && query.Stop < ElementSelection.MaxElements:
                limit = query.Stop + 1 + WindowSlack;
                break;
            case SortedSetQueryKind.Score when query.Count is >= 0 and < ElementSelection.MaxElements
                && query.Offset is >= 0 and < ElementSelection.MaxElements && !query.Scores.IsEmpty:
                limit = query.Offset + query.Count + WindowSlack;
                ScoreRange range = query.Scores;
                bound = query.Reverse ? ScoreIndex.LastAtOrBelow(range.Max, range.MaxExclusive) : ScoreIndex.FirstAtOrAbove(range.Min, range.MinExclusive);
                break;
            default:
                return null;
        }

        // A window must hold every member the query could select, or the answer would be cut short: a larger one reads
        // every member instead.
        return limit <= ElementSelection.MaxElements ? ElementSelection.IndexWindow(bound, (int)limit, backward: query.Reverse) : null;
    }

    public void Execute(IStorageTransaction transaction)
    {
        Selected = [];
        Count = 0;
        Rank = null;
        Length = 0;
        WrongType = false;
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            return;
        }

        if (!record.IsTypedHeader || TypedKeyRecord.TypeOf(record.Value) != DataType.SortedSet)
        {
            WrongType = true;
            return;
        }

        Length = TypedKeyRecord.CountOf(record.Value);
        switch (answer)
        {
            case SortedSetRangeAnswer.Members:
                Selected = SortedSetWindow.Select(transaction, key, Length, query!);
                break;
            case SortedSetRangeAnswer.Count:
                Count = SortedSetWindow.Count(transaction, key, Length, query!);
                break;
            default:
                Rank = SortedSetWindow.Rank(transaction, key, Length, member!);
                break;
        }
    }
}
