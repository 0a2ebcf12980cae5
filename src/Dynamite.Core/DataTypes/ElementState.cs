using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Dynamite.Core.Wire;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// The state of one element of a key (a set member, a hash field, a string key's value): the writes that keep it
/// present, each named by its dot (docs/DATA-TYPES.md). Read together with the key's <see cref="DotContext"/>: a dot
/// the context covers that is not here was removed or superseded, so <see cref="Join"/> never brings it back (an
/// observed-remove set without tombstones, Riak's ORSWOT), and a dot the other side's context does not cover is a
/// write it has not seen, which survives its removals (add-wins).
/// <para>
/// The element's value: the last-writer-wins register write (by timestamp, then dot), plus what every live counter
/// chain added since the <see cref="Resets"/> recorded for it. A register write or a remove supersedes every write it
/// observed and records the observed chains' totals as resets, so a <c>SET</c> zeroes the increments it saw while
/// increments concurrent with it are added on top; a counter write supersedes only its actor's previous write of the
/// same chain, so increments from any nodes all count. An element with resets but no writes is absent but still
/// stored, until every replica holds it (as a tombstone is).
/// </para>
/// <para>
/// Immutable; writes sorted by dot, distinct; resets sorted by chain, distinct. Binary form (<see cref="Write"/>):
/// format byte (1), varint write count, then per write: dot (actor id as <see cref="NodeIdWire"/>, varint counter),
/// zigzag timestamp, kind byte (0 presence, 1 register, 2 counter), then a varint length and the value, or the
/// totals; varint reset count, then each reset's totals. Totals: chain dot, varint increments, varint decrements,
/// a byte (1 when float parts follow), then two little-endian doubles.
/// </para>
/// </summary>
public sealed partial class ElementState : IEquatable<ElementState>
{
    public const byte FormatVersion = 1;

    private readonly ElementWrite[] _writes;
    private readonly CounterTotals[] _resets;

    private ElementState(ElementWrite[] writes, CounterTotals[] resets)
    {
        _writes = writes;
        _resets = resets;
    }

    /// <summary>No writes and no resets: nothing to store.</summary>
    public static ElementState Empty { get; } = new([], []);

    public bool IsPresent => _writes.Length > 0;

    /// <summary>False when there is nothing to store: no writes, no resets.</summary>
    public bool IsEmpty => _writes.Length == 0 && _resets.Length == 0;

    /// <summary>The writes keeping the element present, sorted by dot.</summary>
    public ImmutableArray<ElementWrite> Writes => ImmutableCollectionsMarshal.AsImmutableArray(_writes);

    /// <summary>Per counter chain, the totals a register write or a remove observed and zeroed; sorted by chain.</summary>
    public ImmutableArray<CounterTotals> Resets => ImmutableCollectionsMarshal.AsImmutableArray(_resets);

    /// <summary>An element made of <paramref name="writes"/> and <paramref name="resets"/>; a dot or chain twice is an error.</summary>
    public static ElementState Of(IEnumerable<ElementWrite> writes, IEnumerable<CounterTotals>? resets = null)
    {
        ArgumentNullException.ThrowIfNull(writes);
        ElementWrite[] sorted = [.. writes];
        Array.Sort(sorted, static (x, y) => x.Dot.CompareTo(y.Dot));
        for (int i = 1; i < sorted.Length; i++)
        {
            if (sorted[i - 1].Dot == sorted[i].Dot)
            {
                throw new ArgumentException($"Two writes share the dot {sorted[i].Dot}.", nameof(writes));
            }
        }

        foreach (ElementWrite write in sorted)
        {
            if (write.Value is not null && write.Counter is not null)
            {
                throw new ArgumentException($"Write {write.Dot} is both a register and a counter write.", nameof(writes));
            }
        }

        CounterTotals[] sortedResets = resets is null ? [] : [.. resets];
        Array.Sort(sortedResets, static (x, y) => x.Chain.CompareTo(y.Chain));
        for (int i = 1; i < sortedResets.Length; i++)
        {
            if (sortedResets[i - 1].Chain == sortedResets[i].Chain)
            {
                throw new ArgumentException($"Two resets name the chain {sortedResets[i].Chain}.", nameof(resets));
            }
        }

        return sorted.Length == 0 && sortedResets.Length == 0 ? Empty : new ElementState(sorted, sortedResets);
    }

    /// <summary>
    /// The join of two replicas' states of one element (each with its key's context): a write both hold stays; a write
    /// one side holds stays unless the other side's context has seen it (then the other side removed or superseded it).
    /// Commutative, associative and idempotent over states consistent with their contexts.
    /// </summary>
    public static ElementState Join(ElementState mine, DotContext myContext, ElementState theirs, DotContext theirContext)
    {
        ArgumentNullException.ThrowIfNull(mine);
        ArgumentNullException.ThrowIfNull(myContext);
        ArgumentNullException.ThrowIfNull(theirs);
        ArgumentNullException.ThrowIfNull(theirContext);
        var kept = new List<ElementWrite>(Math.Max(mine._writes.Length, theirs._writes.Length));
        int i = 0, j = 0;
        bool changedMine = false;
        while (i < mine._writes.Length || j < theirs._writes.Length)
        {
            int order = i == mine._writes.Length ? 1 : j == theirs._writes.Length ? -1 : mine._writes[i].Dot.CompareTo(theirs._writes[j].Dot);
            if (order == 0)
            {
                // One dot names one write; should copies ever differ, both sides keep the same one.
                ElementWrite x = mine._writes[i++], y = theirs._writes[j++];
                kept.Add(x.Equals(y) || CompareContent(x, y) >= 0 ? x : y);
                changedMine |= !ReferenceEquals(kept[^1], x);
            }
            else if (order < 0)
            {
                ElementWrite write = mine._writes[i++];
                if (!theirContext.Covers(write.Dot))
                {
                    kept.Add(write);
                }
                else
                {
                    changedMine = true;
                }
            }
            else
            {
                ElementWrite write = theirs._writes[j++];
                if (!myContext.Covers(write.Dot))
                {
                    kept.Add(write);
                    changedMine = true;
                }
            }
        }

        CounterTotals[] resets = JoinResets(mine._resets, theirs._resets, ref changedMine);
        if (!changedMine)
        {
            return mine;
        }

        return kept.Count == 0 && resets.Length == 0 ? Empty : new ElementState([.. kept], resets);
    }

    /// <summary>This state's reset of <paramref name="chain"/>, or zero totals.</summary>
    public CounterTotals ResetOf(Dot chain)
    {
        foreach (CounterTotals reset in _resets)
        {
            if (reset.Chain == chain)
            {
                return reset;
            }
        }

        return new CounterTotals(chain, 0, 0, 0, 0);
    }

    /// <summary>The register write that wins last-writer-wins (latest timestamp, then highest dot); null if none.</summary>
    public ElementWrite? RegisterWinner()
    {
        ElementWrite? winner = null;
        foreach (ElementWrite write in _writes)
        {
            if (write.IsRegister && (winner is null || write.IsLaterThan(winner)))
            {
                winner = write;
            }
        }

        return winner;
    }

    /// <summary>What the live counter chains added since their resets (wide: concurrent increments may pass 64 bits).</summary>
    public Int128 CountSum()
    {
        Int128 sum = 0;
        foreach (CounterTotals totals in LiveChains())
        {
            sum += totals.Net - ResetOf(totals.Chain).Net;
        }

        return sum;
    }

    /// <summary>The float part of <see cref="CountSum"/>, added in chain order so every replica computes the same bits.</summary>
    public double FloatCountSum()
    {
        double sum = 0;
        foreach (CounterTotals totals in LiveChains())
        {
            CounterTotals reset = ResetOf(totals.Chain);
            sum += (totals.FloatIncrements - reset.FloatIncrements) - (totals.FloatDecrements - reset.FloatDecrements);
        }

        return sum;
    }

    /// <summary>True when a live counter chain carries float increments (the value then reads as a float, as after INCRBYFLOAT).</summary>
    public bool HasFloatCount()
    {
        foreach (ElementWrite write in _writes)
        {
            if (write.Counter is { } totals && (totals.FloatIncrements != 0 || totals.FloatDecrements != 0))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The totals of every live counter chain, sorted by chain: what superseding or removing the writes here records as
    /// resets. A replica that received a chain's later write before learning that it superseded an earlier one briefly
    /// holds both; the chain's totals are then their maximum, since totals only grow.
    /// </summary>
    public IReadOnlyList<CounterTotals> LiveChains()
    {
        List<CounterTotals>? chains = null;
        foreach (ElementWrite write in _writes)
        {
            if (write.Counter is not { } totals)
            {
                continue;
            }

            chains ??= [];
            int index = chains.FindIndex(existing => existing.Chain == totals.Chain);
            if (index < 0)
            {
                chains.Add(totals);
            }
            else
            {
                chains[index] = chains[index].Max(totals);
            }
        }

        if (chains is null)
        {
            return [];
        }

        chains.Sort(static (x, y) => x.Chain.CompareTo(y.Chain));
        return chains;
    }

    /// <summary>
    /// <paramref name="actor"/>'s live counter chain, which its next increment continues, and the dots of its live writes,
    /// which that increment supersedes; null if the actor has none. (An actor coordinates only on a replica holding all
    /// its own writes, where it has at most one chain live.)
    /// </summary>
    public (CounterTotals Totals, IReadOnlyList<Dot> Dots)? CounterChainOf(NodeId actor)
    {
        Dot? chain = null;
        foreach (ElementWrite write in _writes)
        {
            if (write.Counter is { } totals && write.Dot.Node == actor && (chain is null || totals.Chain > chain.Value))
            {
                chain = totals.Chain;
            }
        }

        if (chain is null)
        {
            return null;
        }

        CounterTotals merged = new(chain.Value, 0, 0, 0, 0);
        var dots = new List<Dot>();
        foreach (ElementWrite write in _writes)
        {
            if (write.Counter is { } totals && totals.Chain == chain.Value)
            {
                merged = merged.Max(totals);
                dots.Add(write.Dot);
            }
        }

        return (merged, dots);
    }

    /// <summary>The dots of every write here (what an observed-remove or a superseding write names).</summary>
    public IEnumerable<Dot> Dots() => _writes.Select(static write => write.Dot);

    public bool Equals(ElementState? other) =>
        other is not null && (ReferenceEquals(this, other) || (_writes.AsSpan().SequenceEqual(other._writes) && _resets.AsSpan().SequenceEqual(other._resets)));

    public override bool Equals(object? obj) => Equals(obj as ElementState);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (ElementWrite write in _writes)
        {
            hash.Add(write);
        }

        foreach (CounterTotals reset in _resets)
        {
            hash.Add(reset);
        }

        return hash.ToHashCode();
    }

    public override string ToString() =>
        (_writes.Length == 0 ? "absent" : string.Join("; ", _writes.Select(static write => write.ToString())))
        + (_resets.Length == 0 ? string.Empty : $" (resets: {string.Join("; ", _resets)})");

    /// <summary>A total order on write contents, used only when two copies of one dot differ.</summary>
    private static int CompareContent(ElementWrite x, ElementWrite y)
    {
        int order = x.TimestampUnixMs.CompareTo(y.TimestampUnixMs);
        if (order == 0)
        {
            order = x.Counter.HasValue.CompareTo(y.Counter.HasValue);
        }

        if (order == 0 && x.Counter is { } xc && y.Counter is { } yc)
        {
            order = xc.Net.CompareTo(yc.Net);
            if (order == 0)
            {
                order = xc.Increments.CompareTo(yc.Increments);
            }

            if (order == 0)
            {
                order = xc.FloatNet.CompareTo(yc.FloatNet);
            }

            if (order == 0)
            {
                order = xc.FloatIncrements.CompareTo(yc.FloatIncrements);
            }
        }

        if (order == 0)
        {
            order = (x.Value is null).CompareTo(y.Value is null);
        }

        if (order == 0 && x.Value is not null && y.Value is not null)
        {
            order = x.Value.AsSpan().SequenceCompareTo(y.Value);
        }

        return order;
    }
    private static CounterTotals[] JoinResets(CounterTotals[] mine, CounterTotals[] theirs, ref bool changedMine)
    {
        if (theirs.Length == 0)
        {
            return mine;
        }

        var joined = new List<CounterTotals>(mine.Length + theirs.Length);
        int i = 0, j = 0;
        while (i < mine.Length || j < theirs.Length)
        {
            int order = i == mine.Length ? 1 : j == theirs.Length ? -1 : mine[i].Chain.CompareTo(theirs[j].Chain);
            if (order < 0)
            {
                joined.Add(mine[i++]);
            }
            else if (order > 0)
            {
                joined.Add(theirs[j++]);
                changedMine = true;
            }
            else
            {
                CounterTotals max = mine[i].Max(theirs[j]);
                changedMine |= !max.Equals(mine[i]);
                joined.Add(max);
                i++;
                j++;
            }
        }

        return [.. joined];
    }
}
