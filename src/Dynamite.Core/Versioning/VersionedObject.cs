using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Dynamite.Core.Membership;

namespace Dynamite.Core.Versioning;

/// <summary>
/// What a replica stores for a key: a dotted version vector set (Preguiça et al., "Dotted Version
/// Vectors: Logical Clocks for Optimistic Replication", 2012, as Riak 2.0 stores objects with
/// dvv_enabled): the causal <see cref="Context"/> of everything the object has seen, and the
/// <see cref="Siblings"/>, the mutually concurrent values, each tagged with the dot of its write.
/// It is Dynamo's versioned object (§4.4) without Dynamo's sibling explosion: a sibling is dropped
/// exactly when some replica has seen its dot and superseded it, not by comparing whole clocks.
/// <para>
/// Invariants: siblings are sorted by dot with no dot twice; the context covers every sibling's
/// dot. All operations are pure and return new objects; <see cref="Merge"/> is commutative,
/// associative and idempotent, so replicas converge whatever the order of exchanges.
/// </para>
/// <para>
/// Binary form (<see cref="Encode"/>): format version byte (1), context (see
/// <see cref="VersionVector"/>), varint sibling count, then per sibling: varint index of its node
/// in the context, varint counter, flags byte (bit 0: has a value, bit 1: has an expiry, bit 2: has
/// bit patches), zigzag timestamp, zigzag expiry when flagged, varint length and the value bytes when
/// flagged, varint length and the bit patches when flagged (<see cref="Sibling.BitPatches"/>).
/// </para>
/// </summary>
public sealed partial class VersionedObject : IEquatable<VersionedObject>
{
    /// <summary>The leading byte of <see cref="Encode"/>; a new layout takes a new value.</summary>
    public const byte FormatVersion = 1;

    private const byte HasValueFlag = 1;
    private const byte HasExpiryFlag = 2;
    private const byte HasBitPatchesFlag = 4;

    /// <summary>Smallest possible sibling on the wire: node index, counter, flags, timestamp.</summary>
    private const int MinSiblingBytes = 4;

    // Invariant: sorted by dot, distinct dots, every dot covered by _context. Never mutated.
    private readonly Sibling[] _siblings;

    private VersionedObject(VersionVector context, Sibling[] siblings)
    {
        Context = context;
        _siblings = siblings;
    }

    /// <summary>Nothing stored: no context, no siblings (what a replica answers for a missing key).</summary>
    public static VersionedObject Empty { get; } = new(VersionVector.Empty, []);

    /// <summary>Every write this object has seen, superseded or not.</summary>
    public VersionVector Context { get; }

    /// <summary>The concurrent values, sorted by dot.</summary>
    public ImmutableArray<Sibling> Siblings => ImmutableCollectionsMarshal.AsImmutableArray(_siblings);

    public bool IsEmpty => _siblings.Length == 0 && Context.IsEmpty;

    /// <summary>True when some sibling holds a value rather than a tombstone.</summary>
    public bool HasLiveValue
    {
        get
        {
            foreach (Sibling sibling in _siblings)
            {
                if (!sibling.IsTombstone)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>An object from parts; throws <see cref="ArgumentException"/> when a dot repeats or the context does not cover one.</summary>
    public static VersionedObject Create(VersionVector context, IEnumerable<Sibling> siblings)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(siblings);
        Sibling[] sorted = [.. siblings];
        Array.Sort(sorted, static (a, b) => a.Dot.CompareTo(b.Dot));
        for (int i = 0; i < sorted.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(sorted[i], nameof(siblings));
            if (i > 0 && sorted[i].Dot == sorted[i - 1].Dot)
            {
                throw new ArgumentException($"Dot {sorted[i].Dot} appears twice.", nameof(siblings));
            }

            if (sorted[i].Dot.Counter < 1 || !context.Covers(sorted[i].Dot))
            {
                throw new ArgumentException($"The context {context} does not cover dot {sorted[i].Dot}.", nameof(siblings));
            }
        }

        return sorted.Length == 0 && context.IsEmpty ? Empty : new VersionedObject(context, sorted);
    }

    /// <summary>
    /// The replica-side merge (DVV "sync"): the union of the contexts; of the siblings, those both
    /// sides hold, and those one side holds that the other has never seen. A sibling one side holds
    /// and the other has seen but no longer holds was superseded there, so it goes.
    /// </summary>
    public VersionedObject Merge(VersionedObject other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(this, other) || other.IsEmpty)
        {
            return this;
        }

        if (IsEmpty)
        {
            return other;
        }

        Sibling[] a = _siblings;
        Sibling[] b = other._siblings;
        var merged = new Sibling[a.Length + b.Length];
        int i = 0;
        int j = 0;
        int count = 0;
        while (i < a.Length || j < b.Length)
        {
            int order = i == a.Length ? 1 : j == b.Length ? -1 : a[i].Dot.CompareTo(b[j].Dot);
            if (order < 0)
            {
                Sibling mine = a[i++];
                if (!other.Context.Covers(mine.Dot))
                {
                    merged[count++] = mine;
                }
            }
            else if (order > 0)
            {
                Sibling theirs = b[j++];
                if (!Context.Covers(theirs.Dot))
                {
                    merged[count++] = theirs;
                }
            }
            else
            {
                // One dot is one write, so both copies are normally identical; if a bug or a
                // corruption made them differ, a fixed total order keeps the merge commutative.
                Sibling mine = a[i++];
                Sibling theirs = b[j++];
                merged[count++] = CompareContent(mine, theirs) >= 0 ? mine : theirs;
            }
        }

        if (count < merged.Length)
        {
            Array.Resize(ref merged, count);
        }

        return new VersionedObject(Context.Merge(other.Context), merged);
    }

    /// <summary>
    /// The coordinating replica's local write (Riak's put with a dotted version vector): the client
    /// read <paramref name="clientContext"/> and now writes <paramref name="value"/> (null deletes).
    /// Siblings the client has seen are superseded; the others stay as concurrent siblings. The new
    /// sibling's dot is the coordinator's next counter, above anything either context has of it.
    /// <paramref name="bitPatches"/>: the bits a bit command set (<see cref="Sibling.BitPatches"/>); null for a whole value.
    /// </summary>
    public VersionedObject Update(VersionVector clientContext, NodeId coordinator, byte[]? value, long nowUnixMs, long expiresAtUnixMs, byte[]? bitPatches = null)
    {
        ArgumentNullException.ThrowIfNull(clientContext);
        if (coordinator.Value is null)
        {
            throw new ArgumentException("The coordinator id must not be default.", nameof(coordinator));
        }

        long counter = checked(Math.Max(Context.Get(coordinator), clientContext.Get(coordinator)) + 1);
        var dot = new Dot(coordinator, counter);
        var siblings = new Sibling[_siblings.Length + 1];
        int count = 0;
        bool added = false;
        foreach (Sibling sibling in _siblings)
        {
            if (clientContext.Covers(sibling.Dot))
            {
                continue;
            }

            if (!added && dot < sibling.Dot)
            {
                siblings[count++] = new Sibling(dot, value, nowUnixMs, expiresAtUnixMs) { BitPatches = value is null ? null : bitPatches };
                added = true;
            }

            siblings[count++] = sibling;
        }

        if (!added)
        {
            siblings[count++] = new Sibling(dot, value, nowUnixMs, expiresAtUnixMs) { BitPatches = value is null ? null : bitPatches };
        }

        if (count < siblings.Length)
        {
            Array.Resize(ref siblings, count);
        }

        // Merged context's counter for the coordinator is counter - 1, so Increment lands on counter.
        VersionVector context = Context.Merge(clientContext).Increment(coordinator, nowUnixMs);
        return new VersionedObject(context, siblings);
    }

    /// <summary>
    /// Last-writer-wins among the siblings (all mutually concurrent): the highest timestamp, then
    /// node id (ordinal), then counter, so every node picks the same one. Null when there are none.
    /// </summary>
    public Sibling? ResolveLastWriterWins()
    {
        Sibling? winner = null;
        foreach (Sibling sibling in _siblings)
        {
            if (winner is null || IsLaterWrite(sibling, winner))
            {
                winner = sibling;
            }
        }

        return winner;
    }

    /// <summary>
    /// True when this object already reflects everything <paramref name="other"/> knows, so merging
    /// <paramref name="other"/> in would change nothing: the context descends, and no sibling held
    /// here is one <paramref name="other"/> has seen and superseded.
    /// </summary>
    public bool Descends(VersionedObject other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!Context.Descends(other.Context))
        {
            return false;
        }

        foreach (Sibling sibling in _siblings)
        {
            if (other.Context.Covers(sibling.Dot) && !other.HoldsDot(sibling.Dot))
            {
                return false;
            }
        }

        return true;
    }

    public bool Equals(VersionedObject? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Context.Equals(other.Context) && _siblings.AsSpan().SequenceEqual(other._siblings)));

    public override bool Equals(object? obj) => Equals(obj as VersionedObject);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Context);
        foreach (Sibling sibling in _siblings)
        {
            hash.Add(sibling);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => $"{Context} {{{string.Join("; ", (IEnumerable<Sibling>)_siblings)}}}";

    /// <summary>The order <see cref="ResolveLastWriterWins"/> picks by: positive when <paramref name="x"/> is the later write.</summary>
    public static int CompareWriteOrder(Sibling x, Sibling y)
    {
        int order = x.TimestampUnixMs.CompareTo(y.TimestampUnixMs);
        return order != 0 ? order : x.Dot.CompareTo(y.Dot);
    }

    private static bool IsLaterWrite(Sibling candidate, Sibling current)
    {
        int order = candidate.TimestampUnixMs.CompareTo(current.TimestampUnixMs);
        if (order == 0)
        {
            order = candidate.Dot.CompareTo(current.Dot);
        }

        return order > 0;
    }

    /// <summary>A total order on sibling contents, used only when two copies of one dot differ.</summary>
    private static int CompareContent(Sibling x, Sibling y)
    {
        int order = x.TimestampUnixMs.CompareTo(y.TimestampUnixMs);
        if (order != 0)
        {
            return order;
        }

        order = x.ExpiresAtUnixMs.CompareTo(y.ExpiresAtUnixMs);
        if (order != 0)
        {
            return order;
        }

        if (x.Value is null || y.Value is null)
        {
            return (x.Value is null ? 0 : 1) - (y.Value is null ? 0 : 1);
        }

        order = x.Value.AsSpan().SequenceCompareTo(y.Value);
        if (order != 0 || (x.BitPatches is null && y.BitPatches is null))
        {
            return order;
        }

        return x.BitPatches is null || y.BitPatches is null
            ? (x.BitPatches is null ? 0 : 1) - (y.BitPatches is null ? 0 : 1)
            : x.BitPatches.AsSpan().SequenceCompareTo(y.BitPatches);
    }

    private static int IndexInContext(ReadOnlySpan<VersionVectorEntry> entries, NodeId node)
    {
        for (int i = 0; i < entries.Length; i++)
        {
            if (entries[i].Node == node)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"Invariant broken: the context does not name sibling node {node}.");
    }

    private bool HoldsDot(Dot dot)
    {
        int low = 0;
        int high = _siblings.Length - 1;
        while (low <= high)
        {
            int mid = low + ((high - low) >> 1);
            int order = _siblings[mid].Dot.CompareTo(dot);
            if (order == 0)
            {
                return true;
            }

            if (order < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return false;
    }
}
