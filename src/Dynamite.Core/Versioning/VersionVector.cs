using System.Buffers;
using Dynamite.Core.Membership;
using Dynamite.Core.Wire;

namespace Dynamite.Core.Versioning;

/// <summary>
/// A version vector (Dynamo §4.4 "vector clocks"; Riak's vclock module): for each node that
/// coordinated a write, how many it coordinated, and when it last did. Immutable; every operation
/// returns a new vector (or this one when nothing changes).
/// <para>
/// Causality compares counters only. Timestamps serve <see cref="Prune"/>, Riak's rule for keeping
/// vectors short when many coordinators have written a key: drop the entries least recently
/// incremented. Pruning can make a descendant look concurrent (a false conflict, a sibling more),
/// never the reverse, which is why Dynamo accepts it.
/// </para>
/// <para>
/// Wire form: varint entry count, then per entry (sorted by node): 1-byte UTF-8 length and the node
/// id, varint counter, zigzag-varint timestamp.
/// </para>
/// </summary>
public sealed class VersionVector : IEquatable<VersionVector>
{
    /// <summary>Smallest possible entry on the wire: id length, 1-byte id, counter, timestamp.</summary>
    private const int MinEntryBytes = 4;

    // Invariant: sorted by node (ordinal), nodes distinct, counters > 0. Never mutated.
    private readonly VersionVectorEntry[] _entries;

    private VersionVector(VersionVectorEntry[] entries)
    {
        _entries = entries;
    }

    public static VersionVector Empty { get; } = new([]);

    public int Count => _entries.Length;

    public bool IsEmpty => _entries.Length == 0;

    /// <summary>The entries, sorted by node.</summary>
    public ReadOnlySpan<VersionVectorEntry> Entries => _entries;

    /// <summary>A vector from arbitrary entries; throws <see cref="ArgumentException"/> on a duplicate node or a counter below 1.</summary>
    public static VersionVector FromEntries(IEnumerable<VersionVectorEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        VersionVectorEntry[] sorted = [.. entries];
        if (sorted.Length == 0)
        {
            return Empty;
        }

        Array.Sort(sorted, static (a, b) => a.Node.CompareTo(b.Node));
        for (int i = 0; i < sorted.Length; i++)
        {
            if (sorted[i].Node.Value is null || sorted[i].Counter < 1)
            {
                throw new ArgumentException($"Entry {sorted[i]} needs a node and a counter of at least 1.", nameof(entries));
            }

            if (i > 0 && sorted[i].Node == sorted[i - 1].Node)
            {
                throw new ArgumentException($"Node {sorted[i].Node} appears twice.", nameof(entries));
            }
        }

        return new VersionVector(sorted);
    }

    /// <summary>The counter of <paramref name="node"/>; 0 when it has none.</summary>
    public long Get(NodeId node)
    {
        int at = IndexOf(node);
        return at >= 0 ? _entries[at].Counter : 0;
    }

    /// <summary>The timestamp of <paramref name="node"/>'s last increment; 0 when it has none.</summary>
    public long TimestampOf(NodeId node)
    {
        int at = IndexOf(node);
        return at >= 0 ? _entries[at].TimestampUnixMs : 0;
    }

    /// <summary>True when this vector has seen <paramref name="dot"/>'s event.</summary>
    public bool Covers(Dot dot) => Get(dot.Node) >= dot.Counter;

    /// <summary>A new vector with <paramref name="node"/>'s counter one higher, stamped <paramref name="nowUnixMs"/>.</summary>
    public VersionVector Increment(NodeId node, long nowUnixMs)
    {
        if (node.Value is null)
        {
            throw new ArgumentException("The node id must not be default.", nameof(node));
        }

        int at = IndexOf(node);
        if (at >= 0)
        {
            VersionVectorEntry[] copy = (VersionVectorEntry[])_entries.Clone();
            copy[at] = new VersionVectorEntry(node, checked(copy[at].Counter + 1), nowUnixMs);
            return new VersionVector(copy);
        }

        int insertAt = ~at;
        var grown = new VersionVectorEntry[_entries.Length + 1];
        Array.Copy(_entries, grown, insertAt);
        grown[insertAt] = new VersionVectorEntry(node, 1, nowUnixMs);
        Array.Copy(_entries, insertAt, grown, insertAt + 1, _entries.Length - insertAt);
        return new VersionVector(grown);
    }

    /// <summary>
    /// The least upper bound: per node the larger counter, with that entry's timestamp (the larger
    /// timestamp when the counters tie, so the merge stays commutative). Returns one of the inputs
    /// unchanged when it already is the result.
    /// </summary>
    public VersionVector Merge(VersionVector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(this, other) || other._entries.Length == 0)
        {
            return this;
        }

        if (_entries.Length == 0)
        {
            return other;
        }

        VersionVectorEntry[] a = _entries;
        VersionVectorEntry[] b = other._entries;
        var merged = new VersionVectorEntry[a.Length + b.Length];
        int i = 0;
        int j = 0;
        int count = 0;
        bool sameAsA = true;
        bool sameAsB = true;
        while (i < a.Length || j < b.Length)
        {
            int order = i == a.Length ? 1 : j == b.Length ? -1 : a[i].Node.CompareTo(b[j].Node);
            if (order < 0)
            {
                merged[count++] = a[i++];
                sameAsB = false;
            }
            else if (order > 0)
            {
                merged[count++] = b[j++];
                sameAsA = false;
            }
            else
            {
                VersionVectorEntry x = a[i++];
                VersionVectorEntry y = b[j++];
                VersionVectorEntry winner = x.Counter > y.Counter ? x
                    : y.Counter > x.Counter ? y
                    : x.TimestampUnixMs >= y.TimestampUnixMs ? x : y;
                merged[count++] = winner;
                sameAsA &= winner == x;
                sameAsB &= winner == y;
            }
        }

        if (sameAsA)
        {
            return this;
        }

        if (sameAsB)
        {
            return other;
        }

        if (count < merged.Length)
        {
            Array.Resize(ref merged, count);
        }

        return new VersionVector(merged);
    }

    /// <summary>How this vector relates to <paramref name="other"/>, by counters alone.</summary>
    public Causality Compare(VersionVector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        VersionVectorEntry[] a = _entries;
        VersionVectorEntry[] b = other._entries;
        bool aAhead = false;
        bool bAhead = false;
        int i = 0;
        int j = 0;
        while ((i < a.Length || j < b.Length) && !(aAhead && bAhead))
        {
            int order = i == a.Length ? 1 : j == b.Length ? -1 : a[i].Node.CompareTo(b[j].Node);
            if (order < 0)
            {
                aAhead = true;
                i++;
            }
            else if (order > 0)
            {
                bAhead = true;
                j++;
            }
            else
            {
                aAhead |= a[i].Counter > b[j].Counter;
                bAhead |= b[j].Counter > a[i].Counter;
                i++;
                j++;
            }
        }

        return (aAhead, bAhead) switch
        {
            (false, false) => Causality.Equal,
            (true, false) => Causality.After,
            (false, true) => Causality.Before,
            _ => Causality.Concurrent,
        };
    }

    /// <summary>True when this vector has seen everything <paramref name="other"/> has (this &gt;= other).</summary>
    public bool Descends(VersionVector other)
    {
        Causality causality = Compare(other);
        return causality is Causality.Equal or Causality.After;
    }

    /// <summary>
    /// Riak's vclock:prune: with entries ordered oldest first (timestamp, then node), leave the
    /// vector alone while it has at most <paramref name="smallSize"/> entries or its oldest entry is
    /// younger than <paramref name="youngMs"/>; otherwise drop the oldest entry while the vector has
    /// more than <paramref name="bigSize"/> entries or the oldest is older than <paramref name="oldMs"/>.
    /// Riak's defaults: small 50, big 50, young 20 s, old 1 day.
    /// </summary>
    public VersionVector Prune(int smallSize, int bigSize, long youngMs, long oldMs, long nowUnixMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(smallSize);
        ArgumentOutOfRangeException.ThrowIfNegative(bigSize);
        if (_entries.Length <= smallSize)
        {
            return this;
        }

        VersionVectorEntry[] byAge = (VersionVectorEntry[])_entries.Clone();
        Array.Sort(byAge, static (x, y) =>
        {
            int byTime = x.TimestampUnixMs.CompareTo(y.TimestampUnixMs);
            return byTime != 0 ? byTime : x.Node.CompareTo(y.Node);
        });

        int dropped = 0;
        while (true)
        {
            int left = byAge.Length - dropped;
            if (left <= smallSize)
            {
                break;
            }

            long age = nowUnixMs - byAge[dropped].TimestampUnixMs;
            if (age < youngMs || !(left > bigSize || age > oldMs))
            {
                break;
            }

            dropped++;
        }

        if (dropped == 0)
        {
            return this;
        }

        VersionVectorEntry[] kept = byAge[dropped..];
        Array.Sort(kept, static (x, y) => x.Node.CompareTo(y.Node));
        return new VersionVector(kept);
    }

    /// <summary>The exact number of bytes <see cref="Write"/> produces.</summary>
    public int GetEncodedLength()
    {
        int size = WireWriter.SizeOfVarUInt64((ulong)_entries.Length);
        foreach (VersionVectorEntry entry in _entries)
        {
            size += NodeIdWire.SizeOf(entry.Node)
                + WireWriter.SizeOfVarUInt64((ulong)entry.Counter)
                + WireWriter.SizeOfVarInt64(entry.TimestampUnixMs);
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

    /// <summary>Reads a vector from the start of <paramref name="source"/>; throws <see cref="FormatException"/> on malformed input.</summary>
    /// <param name="source">Bytes starting with an encoded vector; anything after it is left alone.</param>
    /// <param name="consumed">How many bytes the vector took.</param>
    public static VersionVector Read(ReadOnlySpan<byte> source, out int consumed)
    {
        var reader = new WireReader(source);
        VersionVector vector = ReadFrom(ref reader);
        consumed = reader.Position;
        return vector;
    }

    public bool Equals(VersionVector? other) =>
        other is not null && (ReferenceEquals(this, other) || _entries.AsSpan().SequenceEqual(other._entries));

    public override bool Equals(object? obj) => Equals(obj as VersionVector);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (VersionVectorEntry entry in _entries)
        {
            hash.Add(entry);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => $"[{string.Join(", ", _entries)}]";

    internal void WriteTo(ref WireWriter writer)
    {
        writer.WriteVarUInt64((ulong)_entries.Length);
        foreach (VersionVectorEntry entry in _entries)
        {
            NodeIdWire.Write(ref writer, entry.Node);
            writer.WriteVarUInt64((ulong)entry.Counter);
            writer.WriteVarInt64(entry.TimestampUnixMs);
        }
    }

    internal static VersionVector ReadFrom(ref WireReader reader)
    {
        int count = reader.ReadCount(reader.Remaining / MinEntryBytes, "Version vector entry count");
        if (count == 0)
        {
            return Empty;
        }

        var entries = new VersionVectorEntry[count];
        for (int i = 0; i < count; i++)
        {
            int offset = reader.Position;
            NodeId node = NodeIdWire.Read(ref reader);
            if (i > 0 && entries[i - 1].Node.CompareTo(node) >= 0)
            {
                throw new FormatException($"Version vector entries are not sorted by node at offset {offset}.");
            }

            ulong counter = reader.ReadVarUInt64();
            if (counter is 0 or > long.MaxValue)
            {
                throw new FormatException($"Counter {counter} of node {node} is out of range.");
            }

            entries[i] = new VersionVectorEntry(node, (long)counter, reader.ReadVarInt64());
        }

        return new VersionVector(entries);
    }

    private int IndexOf(NodeId node)
    {
        int low = 0;
        int high = _entries.Length - 1;
        while (low <= high)
        {
            int mid = low + ((high - low) >> 1);
            int order = _entries[mid].Node.CompareTo(node);
            if (order == 0)
            {
                return mid;
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

        return ~low;
    }
}
