using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;

namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>ZADD's options (NX XX GT LT CH INCR).</summary>
[Flags]
internal enum SortedSetAddFlags
{
    None = 0,
    OnlyNew = 1,
    OnlyExisting = 2,
    OnlyGreater = 4,
    OnlyLess = 8,
    CountChanged = 16,
    Increment = 32,
}

/// <summary>
/// ZADD and ZINCRBY, with redis-server's <c>zsetAdd</c> rules: NX adds only, XX updates only, GT and LT update only
/// to a greater or lesser score, INCR adds to the score (a NaN result is an error and changes nothing). A new score is a
/// register write of the member; on a cluster node an increment is a counter write, so concurrent ZINCRBYs through
/// several nodes sum (unless the score or the increment is infinite, where a sum of counters could make NaN: then the
/// result is written as the register).
/// </summary>
internal sealed class SortedSetAddOperation(byte[] key, ScoredMember[] pairs, SortedSetAddFlags flags, NodeId actor)
    : SortedSetChange(key, actor), IForwardableOperation
{
    public const string NaNScore = "ERR resulting score is not a number (NaN)";

    /// <summary>Members added.</summary>
    public long Added { get; private set; }

    /// <summary>Members whose score changed.</summary>
    public long Updated { get; private set; }

    /// <summary>INCR: the member's new score; null when a condition left it alone.</summary>
    public double? IncrementResult { get; private set; }

    /// <summary>An error found while applying (a NaN sum); nothing changed.</summary>
    public string? Error { get; private set; }

    public IReadOnlyList<byte[]> CommandArguments()
    {
        var arguments = new List<byte[]>(2 + (pairs.Length * 2)) { "ZADD"u8.ToArray(), Key };
        if ((flags & SortedSetAddFlags.OnlyNew) != 0)
        {
            arguments.Add("NX"u8.ToArray());
        }

        if ((flags & SortedSetAddFlags.OnlyExisting) != 0)
        {
            arguments.Add("XX"u8.ToArray());
        }

        if ((flags & SortedSetAddFlags.OnlyGreater) != 0)
        {
            arguments.Add("GT"u8.ToArray());
        }

        if ((flags & SortedSetAddFlags.OnlyLess) != 0)
        {
            arguments.Add("LT"u8.ToArray());
        }

        if ((flags & SortedSetAddFlags.CountChanged) != 0)
        {
            arguments.Add("CH"u8.ToArray());
        }

        if ((flags & SortedSetAddFlags.Increment) != 0)
        {
            arguments.Add("INCR"u8.ToArray());
        }

        foreach (ScoredMember pair in pairs)
        {
            // %.17g round-trips a double exactly.
            arguments.Add(SortedSetScore.FormatBytes(pair.Score));
            arguments.Add(pair.Member);
        }

        return arguments;
    }

    protected override void Restart()
    {
        Added = 0;
        Updated = 0;
        IncrementResult = null;
        Error = null;
    }

    protected override void Change(KeyDeltaBuilder builder, IStorageTransaction transaction, bool replicated)
    {
        bool increment = (flags & SortedSetAddFlags.Increment) != 0;
        foreach (ScoredMember pair in pairs)
        {
            ElementState current = builder.Read(pair.Member);
            if (!current.IsPresent)
            {
                if ((flags & SortedSetAddFlags.OnlyExisting) != 0)
                {
                    continue;
                }

                Write(builder, pair.Member, current, pair.Score, pair.Score, increment && replicated);
                Added++;
                continue;
            }

            if ((flags & SortedSetAddFlags.OnlyNew) != 0)
            {
                continue;
            }

            double score = SortedSetScore.Of(current);
            double next = increment ? score + pair.Score : pair.Score;
            if (double.IsNaN(next))
            {
                Error = NaNScore;
                return;
            }

            if (((flags & SortedSetAddFlags.OnlyLess) != 0 && next >= score) || ((flags & SortedSetAddFlags.OnlyGreater) != 0 && next <= score))
            {
                continue;
            }

            if (next != score)
            {
                Write(builder, pair.Member, current, next, pair.Score, increment && replicated);
                Updated++;
            }
            else if (increment)
            {
                IncrementResult = next;
            }
        }
    }

    private void Write(KeyDeltaBuilder builder, byte[] member, ElementState current, double score, double by, bool asCounter)
    {
        if (asCounter && double.IsFinite(by) && double.IsFinite(SortedSetScore.Of(current)) && double.IsFinite(score))
        {
            builder.Increment(member, 0, by);
            IncrementResult = SortedSetScore.Of(builder.Read(member));
            return;
        }

        builder.Assign(member, SortedSetScore.Encode(score));
        if ((flags & SortedSetAddFlags.Increment) != 0)
        {
            IncrementResult = score;
        }
    }
}
