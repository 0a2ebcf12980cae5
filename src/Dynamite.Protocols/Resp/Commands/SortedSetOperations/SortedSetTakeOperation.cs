using System.Globalization;
using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>
/// The commands that remove members of one sorted set: ZREM (named members), ZREMRANGEBYRANK/SCORE/LEX (a range) and
/// ZPOPMIN/ZPOPMAX (the lowest or highest members). Each removal is an observed remove. On a cluster node the
/// coordinating primary chooses the members from its own state, so two nodes popping at once may pop the same member
/// (docs/DATA-TYPES.md, "What a cluster does not promise"; Redis Active-Active promises the same: at least once).
/// </summary>
internal sealed class SortedSetTakeOperation : SortedSetChange, IForwardableOperation, IKeyPopOperation<ScoredMember>
{
    private readonly byte[][]? _names;
    private readonly SortedSetQuery? _range;
    private readonly long _popCount;
    private readonly bool _popHighest;

    private SortedSetTakeOperation(byte[] key, NodeId actor, byte[][]? names, SortedSetQuery? range, long popCount, bool popHighest)
        : base(key, actor)
    {
        _names = names;
        _range = range;
        _popCount = popCount;
        _popHighest = popHighest;
    }

    /// <summary>Members removed.</summary>
    public long Removed { get; private set; }

    /// <summary>A pop's members with their scores, in the order popped.</summary>
    public List<ScoredMember> Popped { get; } = [];

    IReadOnlyList<ScoredMember> IKeyPopOperation<ScoredMember>.Popped => Popped;

    public static SortedSetTakeOperation Named(byte[] key, byte[][] names, NodeId actor) => new(key, actor, names, null, 0, false);

    public static SortedSetTakeOperation InRange(byte[] key, SortedSetQuery range, NodeId actor) => new(key, actor, null, range, 0, false);

    public static SortedSetTakeOperation Pop(byte[] key, long count, bool highest, NodeId actor) => new(key, actor, null, null, count, highest);

    /// <summary>ZMPOP, BZPOPMIN, BZPOPMAX and BZMPOP's pop: from the first of <paramref name="keys"/> that holds members.</summary>
    public static MultiKeyPopSteps<SortedSetTakeOperation, ScoredMember> PopFirstOf(byte[][] keys, bool highest, long count, NodeId actor) =>
        new(keys, key => Pop(key, count, highest, actor));

    public IReadOnlyList<byte[]> CommandArguments()
    {
        if (_names is not null)
        {
            return [Encoding.ASCII.GetBytes("ZREM"), Key, .. _names];
        }

        if (_range is null)
        {
            return [Encoding.ASCII.GetBytes(_popHighest ? "ZPOPMAX" : "ZPOPMIN"), Key, Encoding.ASCII.GetBytes(_popCount.ToString(CultureInfo.InvariantCulture))];
        }

        // A range removal is a client's single-key command, forwarded whole before it runs; it is never a step.
        throw new InvalidOperationException("A range removal is not a step of another command.");
    }

    protected override void Restart()
    {
        Removed = 0;
        Popped.Clear();
    }

    protected override void Change(KeyDeltaBuilder builder, IStorageTransaction transaction, bool replicated)
    {
        if (_names is not null)
        {
            foreach (byte[] name in _names)
            {
                Removed += builder.Remove(name) ? 1 : 0;
            }

            return;
        }

        if (builder.Creates || (_range is null && _popCount <= 0))
        {
            return;
        }

        // The members to take, from the score index where the replica keeps one: a pop reads only what it pops.
        SortedSetQuery query = _range ?? SortedSetQuery.ByRank(0, _popCount - 1, reverse: _popHighest);
        List<ScoredMember> taken = SortedSetWindow.Select(transaction, Key, builder.StoredElementCount, query);
        foreach (ScoredMember member in taken)
        {
            if (builder.Remove(member.Member))
            {
                Removed++;
                if (_range is null)
                {
                    Popped.Add(member);
                }
            }
        }
    }
}
