using System.Buffers;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Dynamite.Core.Wire;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// The causal context of a key (docs/DATA-TYPES.md): every dot a replica has seen for it, whether the write it names
/// is still present or was removed or superseded since. Kept as a version vector of contiguous prefixes (every dot
/// <c>(actor, 1..n)</c>) plus a <see cref="Cloud"/> of dots seen beyond a gap, as in Almeida, Shoker and Baquero's
/// delta-state CRDTs: deltas may arrive out of order, and a context must never claim a dot it has not seen, or an
/// observed-remove would remove a write nobody observed. The cloud folds into the vector once its gap is filled.
/// <para>
/// Unlike <see cref="VersionVector"/>, a context is never pruned: forgetting a dot would let a removed write
/// come back. It grows with the actors that wrote the key, not with its writes.
/// </para>
/// <para>
/// Immutable. Invariants: the vector is sorted by actor with counters &gt; 0; the cloud is sorted, distinct, and
/// holds no dot the vector covers or that would extend it (<c>counter == vector[actor] + 1</c>).
/// </para>
/// <para>
/// Binary form: varint actor count, then per actor its id (<see cref="NodeIdWire"/>) and varint counter; varint
/// cloud size, then per dot its actor id and varint counter. Canonical: one context has one encoding.
/// </para>
/// </summary>
public sealed class DotContext : IEquatable<DotContext>
{
    /// <summary>Smallest entry on the wire: id length, a one-byte id, a counter.</summary>
    private const int MinEntryBytes = 3;

    private readonly ActorCounter[] _vector;
    private readonly Dot[] _cloud;

    private DotContext(ActorCounter[] vector, Dot[] cloud)
    {
        _vector = vector;
        _cloud = cloud;
    }

    /// <summary>Nothing seen.</summary>
    public static DotContext Empty { get; } = new([], []);

    public bool IsEmpty => _vector.Length == 0 && _cloud.Length == 0;

    /// <summary>Per actor, the highest counter n such that every dot (actor, 1..n) has been seen; sorted by actor.</summary>
    public ReadOnlySpan<ActorCounter> Vector => _vector;

    /// <summary>Dots seen beyond a gap in their actor's sequence; sorted.</summary>
    public ReadOnlySpan<Dot> Cloud => _cloud;

    /// <summary>A context holding exactly <paramref name="dots"/>.</summary>
    public static DotContext Of(IEnumerable<Dot> dots)
    {
        ArgumentNullException.ThrowIfNull(dots);
        Dot[] sorted = [.. dots];
        Array.Sort(sorted);
        return Normalize([], sorted);
    }

    /// <summary>True when the write named by <paramref name="dot"/> has been seen.</summary>
    public bool Covers(Dot dot) => dot.Counter <= PrefixOf(dot.Node) || Array.BinarySearch(_cloud, dot) >= 0;

    /// <summary>The highest counter of <paramref name="actor"/> seen, in the prefix or the cloud; 0 if none.</summary>
    public long MaxCounter(NodeId actor)
    {
        long max = PrefixOf(actor);
        foreach (Dot dot in _cloud)
        {
            if (dot.Node == actor && dot.Counter > max)
            {
                max = dot.Counter;
            }
        }

        return max;
    }

    /// <summary>
    /// The dot a new write coordinated by <paramref name="actor"/> takes. Unique as long as the actor only ever
    /// coordinates on a replica that has applied all of its own writes (an actor is a node incarnation).
    /// </summary>
    public Dot NextDot(NodeId actor) => new(actor, MaxCounter(actor) + 1);

    /// <summary>This context plus <paramref name="dot"/>.</summary>
    public DotContext Add(Dot dot)
    {
        if (Covers(dot))
        {
            return this;
        }

        // The common case, a coordinator's next dot with no gap open: extend the vector without a normalizing pass.
        if (_cloud.Length == 0 && dot.Counter == PrefixOf(dot.Node) + 1)
        {
            return new DotContext(WithPrefix(dot.Node, dot.Counter), []);
        }

        return Union(Of([dot]));
    }

    /// <summary>Everything either context has seen (the join of the context lattice): commutative, associative, idempotent.</summary>
    public DotContext Union(DotContext other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.IsEmpty || ReferenceEquals(this, other))
        {
            return this;
        }

        if (IsEmpty)
        {
            return other;
        }

        var vector = new List<ActorCounter>(_vector.Length + other._vector.Length);
        int i = 0, j = 0;
        while (i < _vector.Length || j < other._vector.Length)
        {
            int order = i == _vector.Length ? 1 : j == other._vector.Length ? -1 : _vector[i].Actor.CompareTo(other._vector[j].Actor);
            if (order < 0)
            {
                vector.Add(_vector[i++]);
            }
            else if (order > 0)
            {
                vector.Add(other._vector[j++]);
            }
            else
            {
                vector.Add(new ActorCounter(_vector[i].Actor, Math.Max(_vector[i].Counter, other._vector[j].Counter)));
                i++;
                j++;
            }
        }

        if (_cloud.Length == 0 && other._cloud.Length == 0)
        {
            // Two gap-free contexts: their union is the pointwise maximum, with nothing to fold.
            return new DotContext([.. vector], []);
        }

        var cloud = new Dot[_cloud.Length + other._cloud.Length];
        _cloud.CopyTo(cloud, 0);
        other._cloud.CopyTo(cloud, _cloud.Length);
        Array.Sort(cloud);
        return Normalize([.. vector], cloud);
    }

    /// <summary>The exact number of bytes <see cref="Write"/> produces.</summary>
    public int GetEncodedLength()
    {
        int size = WireWriter.SizeOfVarUInt64((ulong)_vector.Length) + WireWriter.SizeOfVarUInt64((ulong)_cloud.Length);
        foreach (ActorCounter entry in _vector)
        {
            size += NodeIdWire.SizeOf(entry.Actor) + WireWriter.SizeOfVarUInt64((ulong)entry.Counter);
        }

        foreach (Dot dot in _cloud)
        {
            size += DotWire.SizeOf(dot);
        }

        return size;
    }

    public void Write(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int length = GetEncodedLength();
        var writer = new WireWriter(output.GetSpan(length));
        WriteTo(ref writer);
        output.Advance(length);
    }

    /// <summary>Reads a context from the start of <paramref name="source"/>; malformed or non-canonical input is a <see cref="FormatException"/>.</summary>
    public static DotContext Read(ReadOnlySpan<byte> source, out int consumed)
    {
        var reader = new WireReader(source);
        DotContext context = ReadFrom(ref reader);
        consumed = reader.Position;
        return context;
    }

    public bool Equals(DotContext? other) =>
        other is not null
        && (ReferenceEquals(this, other) || (_vector.AsSpan().SequenceEqual(other._vector) && _cloud.AsSpan().SequenceEqual(other._cloud)));

    public override bool Equals(object? obj) => Equals(obj as DotContext);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (ActorCounter entry in _vector)
        {
            hash.Add(entry);
        }

        foreach (Dot dot in _cloud)
        {
            hash.Add(dot);
        }

        return hash.ToHashCode();
    }

    public override string ToString() =>
        $"[{string.Join(", ", _vector.Select(e => $"{e.Actor}:{e.Counter}"))}]{(_cloud.Length == 0 ? string.Empty : $" +{{{string.Join(", ", _cloud)}}}")}";

    internal void WriteTo(ref WireWriter writer)
    {
        writer.WriteVarUInt64((ulong)_vector.Length);
        foreach (ActorCounter entry in _vector)
        {
            NodeIdWire.Write(ref writer, entry.Actor);
            writer.WriteVarUInt64((ulong)entry.Counter);
        }

        writer.WriteVarUInt64((ulong)_cloud.Length);
        foreach (Dot dot in _cloud)
        {
            DotWire.Write(ref writer, dot);
        }
    }

    internal static DotContext ReadFrom(ref WireReader reader)
    {
        int actors = reader.ReadCount(reader.Remaining / MinEntryBytes, "Dot context actor count");
        var vector = new ActorCounter[actors];
        for (int i = 0; i < actors; i++)
        {
            int offset = reader.Position;
            NodeId actor = NodeIdWire.Read(ref reader);
            if (i > 0 && vector[i - 1].Actor.CompareTo(actor) >= 0)
            {
                throw new FormatException($"Dot context actors are not sorted at offset {offset}.");
            }

            vector[i] = new ActorCounter(actor, ReadCounter(ref reader, actor));
        }

        int dots = reader.ReadCount(reader.Remaining / MinEntryBytes, "Dot context cloud size");
        var cloud = new Dot[dots];
        for (int i = 0; i < dots; i++)
        {
            int offset = reader.Position;
            cloud[i] = DotWire.Read(ref reader);
            if (i > 0 && cloud[i - 1].CompareTo(cloud[i]) >= 0)
            {
                throw new FormatException($"Dot context cloud is not sorted at offset {offset}.");
            }
        }

        if (actors == 0 && dots == 0)
        {
            return Empty;
        }

        var context = new DotContext(vector, cloud);
        foreach (Dot dot in cloud)
        {
            if (dot.Counter <= context.PrefixOf(dot.Node) + 1)
            {
                throw new FormatException($"Dot context cloud holds {dot}, which its vector covers or extends (not canonical).");
            }
        }

        return context;
    }

    private static long ReadCounter(ref WireReader reader, NodeId actor)
    {
        ulong counter = reader.ReadVarUInt64();
        if (counter is 0 or > long.MaxValue)
        {
            throw new FormatException($"Counter {counter} of actor {actor} is out of range.");
        }

        return (long)counter;
    }

    /// <summary>Folds cloud dots into the vector where they extend it, drops the ones it covers; <paramref name="sortedCloud"/> sorted, may repeat.</summary>
    private static DotContext Normalize(ActorCounter[] vector, Dot[] sortedCloud)
    {
        if (sortedCloud.Length == 0)
        {
            return vector.Length == 0 ? Empty : new DotContext(vector, []);
        }

        var prefixes = new SortedDictionary<NodeId, long>();
        foreach (ActorCounter entry in vector)
        {
            prefixes[entry.Actor] = entry.Counter;
        }

        var remaining = new List<Dot>();
        foreach (Dot dot in sortedCloud)
        {
            long prefix = prefixes.GetValueOrDefault(dot.Node);
            if (dot.Counter <= prefix)
            {
                continue;
            }

            if (dot.Counter == prefix + 1)
            {
                // Sorted: the dots of one actor come in ascending order, so the prefix grows through them in one pass,
                // and an earlier dot left behind a gap can only be a lower one of the same actor.
                prefixes[dot.Node] = dot.Counter;
                continue;
            }

            remaining.Add(dot);
        }

        // Sorted input means no later dot can close an earlier dot's gap: what is left keeps its gap. Only repeats go.
        var cloud = new List<Dot>(remaining.Count);
        foreach (Dot dot in remaining)
        {
            if (cloud.Count == 0 || cloud[^1] != dot)
            {
                cloud.Add(dot);
            }
        }

        var merged = new ActorCounter[prefixes.Count];
        int index = 0;
        foreach (KeyValuePair<NodeId, long> entry in prefixes)
        {
            merged[index++] = new ActorCounter(entry.Key, entry.Value);
        }

        return new DotContext(merged, [.. cloud]);
    }

    /// <summary>The vector with <paramref name="actor"/>'s prefix set to <paramref name="counter"/> (inserted in order if absent).</summary>
    private ActorCounter[] WithPrefix(NodeId actor, long counter)
    {
        int index = 0;
        while (index < _vector.Length && _vector[index].Actor.CompareTo(actor) < 0)
        {
            index++;
        }

        bool present = index < _vector.Length && _vector[index].Actor == actor;
        var vector = new ActorCounter[present ? _vector.Length : _vector.Length + 1];
        _vector.AsSpan(0, index).CopyTo(vector);
        vector[index] = new ActorCounter(actor, counter);
        _vector.AsSpan(present ? index + 1 : index).CopyTo(vector.AsSpan(index + 1));
        return vector;
    }

    private long PrefixOf(NodeId actor)
    {
        int low = 0, high = _vector.Length - 1;
        while (low <= high)
        {
            int middle = (low + high) >>> 1;
            int order = _vector[middle].Actor.CompareTo(actor);
            if (order == 0)
            {
                return _vector[middle].Counter;
            }

            if (order < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return 0;
    }
}

/// <summary>One entry of a <see cref="DotContext"/>'s vector: every dot of <paramref name="Actor"/> up to <paramref name="Counter"/> was seen.</summary>
public readonly record struct ActorCounter(NodeId Actor, long Counter);
