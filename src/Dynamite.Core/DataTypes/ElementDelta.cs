using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// What one command changes in one element, as every replica joins it (delta-state CRDTs: Almeida, Shoker and
/// Baquero 2018): the element's new writes and the dots the change has seen (the new write's own dot and the dots it
/// supersedes or removes). Its size is the change's, not the collection's. Joining a delta twice, or out of order
/// with others, leaves the same state, so retries, hints and duplicated messages are harmless.
/// The factories take the coordinator's current state of the element and the key's context there.
/// </summary>
/// <param name="Writes">Writes the change adds.</param>
/// <param name="Context">Dots the change has seen: joined into the key's context, and removing every stored write it names that <paramref name="Writes"/> does not hold.</param>
public sealed record ElementDelta(ElementState Writes, DotContext Context)
{
    /// <summary>
    /// A register write (<c>SET</c>, <c>HSET</c>), or with a null <paramref name="value"/> a presence write
    /// (<c>SADD</c>): a new write that supersedes every write of the element the coordinator has seen, increments
    /// included.
    /// </summary>
    public static ElementDelta Assign(ElementState current, DotContext keyContext, NodeId actor, long nowUnixMs, byte[]? value)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(keyContext);
        Dot dot = keyContext.NextDot(actor);
        return new ElementDelta(
            ElementState.Of([new ElementWrite(dot, nowUnixMs, value)], current.LiveChains()),
            DotContext.Of(current.Dots().Append(dot)));
    }

    /// <summary>
    /// An observed remove (<c>SREM</c>, <c>HDEL</c>): exactly the writes the coordinator has seen go, and the increments
    /// it saw are zeroed; concurrent writes stay.
    /// </summary>
    public static ElementDelta Remove(ElementState current)
    {
        ArgumentNullException.ThrowIfNull(current);
        return new ElementDelta(ElementState.Of([], current.LiveChains()), DotContext.Of(current.Dots()));
    }

    /// <summary>
    /// An increment (<c>INCRBY</c>, <c>INCRBYFLOAT</c>): the actor's counter write, its chain's running totals raised by
    /// the increment, replaces its previous one under a new dot (an actor with no live counter write starts a chain named
    /// by the new dot). Nothing else is superseded, so concurrent increments from other actors all count, and a
    /// concurrent <c>SET</c>, which zeroed only the totals it saw, keeps the rest. Throws <see cref="OverflowException"/>
    /// when the chain's totals leave 64 bits.
    /// </summary>
    public static ElementDelta Increment(ElementState current, DotContext keyContext, NodeId actor, long nowUnixMs, long by, double floatBy = 0)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(keyContext);
        (CounterTotals Totals, IReadOnlyList<Dot> Dots)? previous = current.CounterChainOf(actor);
        Dot dot = keyContext.NextDot(actor);
        CounterTotals totals = (previous?.Totals ?? new CounterTotals(dot, 0, 0, 0, 0)).Add(by, floatBy);
        var write = new ElementWrite(dot, nowUnixMs, null, totals);
        IEnumerable<Dot> seen = previous is null ? [dot] : previous.Value.Dots.Append(dot);
        return new ElementDelta(ElementState.Of([write]), DotContext.Of(seen));
    }

    /// <summary>Joins this delta into a stored element and its key's context; returns both new states.</summary>
    public (ElementState Element, DotContext KeyContext) ApplyTo(ElementState stored, DotContext keyContext)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(keyContext);
        return (ElementState.Join(stored, keyContext, Writes, Context), keyContext.Union(Context));
    }
}
