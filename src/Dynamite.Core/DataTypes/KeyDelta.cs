using System.Collections.Immutable;
using Dynamite.Core.Wire;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// What one command changes in one typed key, as the coordinator ships it to the other replicas and a hint keeps it
/// (docs/DATA-TYPES.md, "Deltas"): the key's header as the change saw it (type and creation, the dots it depends on,
/// the expiry register) and the elements it changed, each an <see cref="ElementDelta"/>. <see cref="TypedKeyJoin"/>
/// joins it into a replica's stored state. Its size is the change's, not the collection's; joining it twice, or out
/// of order with other deltas of the key, leaves the same state.
/// <para>
/// <see cref="RemovesObserved"/> marks a whole-key remove (<c>DEL</c>, a replacement by another type): every stored
/// write its header's context covers goes, element by element (O(n) on the replica, O(1) on the wire); with a
/// <see cref="RemovalScope"/>, only in the elements that range names (a page of a whole key too large for one message).
/// </para>
/// Binary form: format byte (1), flags (bit 0: removes observed), header length and <see cref="KeyHeader"/>, element
/// count, then per element: name length and name, <see cref="ElementState"/> length and bytes, context
/// (<see cref="DotContext"/>); with flag bit 1 (a removal scope), then the range's two bounds, each a presence byte and,
/// when present, a length and the name.
/// </summary>
public sealed class KeyDelta
{
    public const byte FormatVersion = 1;

    /// <summary>The most elements one delta may carry (a command's change, or one page of a whole-key transfer).</summary>
    public const int MaxElements = 1 << 20;

    private const byte RemovesObservedFlag = 1;

    private const byte ScopedFlag = 2;

    /// <summary>The fewest bytes an encoded element takes (two lengths, an empty state's and an empty context's bytes): bounds a count read off the wire.</summary>
    private const int MinElementBytes = 4;

    public KeyDelta(KeyHeader header, IEnumerable<KeyValuePair<byte[], ElementDelta>> elements, bool removesObserved = false, ElementRange? removalScope = null)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(elements);
        if (removalScope is not null && !removesObserved)
        {
            throw new ArgumentException("Only a whole-key remove has a removal scope.", nameof(removalScope));
        }

        Header = header;
        Elements = [.. elements];
        RemovesObserved = removesObserved;
        RemovalScope = removalScope;
        foreach ((byte[] name, ElementDelta delta) in Elements)
        {
            ArgumentNullException.ThrowIfNull(name);
            ArgumentNullException.ThrowIfNull(delta);
        }
    }

    /// <summary>
    /// A replica's whole key as one delta: anti-entropy's and handoff's transfer of a typed key (docs/DATA-TYPES.md). It
    /// holds the replica's header with the key's whole context, every stored element's state (each having seen its own
    /// dots), and an observed remove of the whole key. Joined into another replica, it removes the writes the sender
    /// had seen and removed, keeps those it had not seen, and joins every element it holds: the two replicas' join.
    /// </summary>
    public static KeyDelta WholeKey(KeyHeader header, IEnumerable<KeyValuePair<byte[], ElementState>> elements) => WholeKeyPage(header, elements, null);

    /// <summary>
    /// One page of a whole key too large for one message: <see cref="WholeKey"/> over the elements that
    /// <paramref name="scope"/> names, its observed remove limited to them. Joined before the pages of the sender's
    /// elements themselves (<see cref="ElementsOnly"/>) have all arrived, its context would mark the elements of later
    /// pages as seen and removed: a transfer sends every element first, then these pages (docs/DATA-TYPES.md).
    /// </summary>
    public static KeyDelta WholeKeyPage(KeyHeader header, IEnumerable<KeyValuePair<byte[], ElementState>> elements, ElementRange? scope)
    {
        ArgumentNullException.ThrowIfNull(elements);
        return new KeyDelta(
            header,
            WithOwnDots(elements),
            removesObserved: true,
            scope);
    }

    /// <summary>
    /// Elements of a replica's key with only their own dots as context, and no remove: the first pass of a whole key too
    /// large for one message, which adds what the receiver lacks and changes nothing else (its header carries the
    /// sender's type, creation and expiry, not its context).
    /// </summary>
    public static KeyDelta ElementsOnly(KeyHeader header, IEnumerable<KeyValuePair<byte[], ElementState>> elements)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(elements);
        return new KeyDelta(
            header.WithContext(DotContext.Empty),
            WithOwnDots(elements));
    }

    /// <summary>Each stored element as a delta that has seen exactly its own dots.</summary>
    private static IEnumerable<KeyValuePair<byte[], ElementDelta>> WithOwnDots(IEnumerable<KeyValuePair<byte[], ElementState>> elements) =>
        elements.Select(static element => new KeyValuePair<byte[], ElementDelta>(element.Key, new ElementDelta(element.Value, DotContext.Of(element.Value.Dots()))));

    /// <summary>The key's header as the change saw it; its context holds every dot the change depends on.</summary>
    public KeyHeader Header { get; }

    /// <summary>The changed elements by name.</summary>
    public ImmutableArray<KeyValuePair<byte[], ElementDelta>> Elements { get; }

    /// <summary>True for a whole-key remove: every stored write the header's context covers goes.</summary>
    public bool RemovesObserved { get; }

    /// <summary>The elements a whole-key remove covers, when it is one page of a whole key; null: every element.</summary>
    public ElementRange? RemovalScope { get; }

    /// <summary>
    /// The join of two deltas of one key (the delta-group join of Almeida, Shoker and Baquero, 2018, section 4):
    /// joining the result into a replica leaves the state that joining both, in either order, leaves. A hint keeps one
    /// delta per key and replica this way, so its size stays the keys' changes, not the count of commands.
    /// <para>
    /// Per element, the writes join as replicas' states do (<see cref="ElementState.Join"/>), each side's context being
    /// its element's context and, for a whole-key remove, its header's context as well (that remove covers every
    /// element); the element contexts are united. A delta whose type lost the header join (a concurrent creation of
    /// another type) keeps only its contexts, united into the header's, as <see cref="TypedKeyJoin"/> keeps them.
    /// </para>
    /// </summary>
    public static KeyDelta Join(KeyDelta x, KeyDelta y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.RemovalScope is not null || y.RemovalScope is not null)
        {
            throw new ArgumentException("A page of a whole key is joined into a replica, never into another delta.");
        }

        KeyHeader header = KeyHeader.Join(x.Header, y.Header);
        bool keepX = x.Header.Type == header.Type;
        bool keepY = y.Header.Type == header.Type;
        DotContext lostContexts = DotContext.Empty;
        var joined = new SortedDictionary<byte[], (ElementDelta? X, ElementDelta? Y)>(NameOrder.Instance);
        foreach ((byte[] name, ElementDelta delta) in x.Elements)
        {
            if (keepX)
            {
                joined[name] = (delta, null);
            }
            else
            {
                lostContexts = lostContexts.Union(delta.Context);
            }
        }

        foreach ((byte[] name, ElementDelta delta) in y.Elements)
        {
            if (keepY)
            {
                joined[name] = (joined.TryGetValue(name, out var pair) ? pair.X : null, delta);
            }
            else
            {
                lostContexts = lostContexts.Union(delta.Context);
            }
        }

        DotContext xRemoves = keepX && x.RemovesObserved ? x.Header.Context : DotContext.Empty;
        DotContext yRemoves = keepY && y.RemovesObserved ? y.Header.Context : DotContext.Empty;
        var elements = new List<KeyValuePair<byte[], ElementDelta>>(joined.Count);
        foreach ((byte[] name, (ElementDelta? inX, ElementDelta? inY)) in joined)
        {
            ElementState writes = ElementState.Join(
                inX?.Writes ?? ElementState.Empty, (inX?.Context ?? DotContext.Empty).Union(xRemoves),
                inY?.Writes ?? ElementState.Empty, (inY?.Context ?? DotContext.Empty).Union(yRemoves));
            DotContext context = (inX?.Context ?? DotContext.Empty).Union(inY?.Context ?? DotContext.Empty);
            elements.Add(new(name, new ElementDelta(writes, context)));
        }

        return new KeyDelta(header.WithContext(header.Context.Union(lostContexts)), elements, (keepX && x.RemovesObserved) || (keepY && y.RemovesObserved));
    }

    public byte[] Encode()
    {
        byte[] header = Header.Encode();
        int length = 2 + WireWriter.SizeOfVarUInt64((ulong)header.Length) + header.Length + WireWriter.SizeOfVarUInt64((ulong)Elements.Length)
            + (RemovalScope is { } scope ? BoundSize(scope.After) + BoundSize(scope.Through) : 0);
        var states = new byte[Elements.Length][];
        for (int i = 0; i < Elements.Length; i++)
        {
            (byte[] name, ElementDelta delta) = Elements[i];
            states[i] = delta.Writes.Encode();
            length += WireWriter.SizeOfVarUInt64((ulong)name.Length) + name.Length
                + WireWriter.SizeOfVarUInt64((ulong)states[i].Length) + states[i].Length
                + delta.Context.GetEncodedLength();
        }

        byte[] bytes = new byte[length];
        var writer = new WireWriter(bytes);
        writer.WriteByte(FormatVersion);
        writer.WriteByte((byte)((RemovesObserved ? RemovesObservedFlag : 0) | (RemovalScope is null ? 0 : ScopedFlag)));
        writer.WriteVarUInt64((ulong)header.Length);
        writer.WriteBytes(header);
        writer.WriteVarUInt64((ulong)Elements.Length);
        for (int i = 0; i < Elements.Length; i++)
        {
            (byte[] name, ElementDelta delta) = Elements[i];
            writer.WriteVarUInt64((ulong)name.Length);
            writer.WriteBytes(name);
            writer.WriteVarUInt64((ulong)states[i].Length);
            writer.WriteBytes(states[i]);
            delta.Context.WriteTo(ref writer);
        }

        if (RemovalScope is { } range)
        {
            WriteBound(ref writer, range.After);
            WriteBound(ref writer, range.Through);
        }

        return bytes;
    }

    private static int BoundSize(byte[]? bound) => 1 + (bound is null ? 0 : WireWriter.SizeOfVarUInt64((ulong)bound.Length) + bound.Length);

    private static void WriteBound(ref WireWriter writer, byte[]? bound)
    {
        writer.WriteByte(bound is null ? (byte)0 : (byte)1);
        if (bound is not null)
        {
            writer.WriteVarUInt64((ulong)bound.Length);
            writer.WriteBytes(bound);
        }
    }

    private static byte[]? ReadBound(ref WireReader reader, int maxLength) => reader.ReadByte() switch
    {
        0 => null,
        1 => reader.ReadBytes(reader.ReadCount(maxLength, "range bound bytes")).ToArray(),
        var other => throw new FormatException($"Key delta range bound marker {other} is not 0 or 1."),
    };

    /// <summary>Reads a whole encoded delta; malformed or trailing input is a <see cref="FormatException"/>.</summary>
    public static KeyDelta Decode(ReadOnlySpan<byte> source)
    {
        var reader = new WireReader(source);
        byte version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw new FormatException($"Key delta format {version} is not supported (expected {FormatVersion}).");
        }

        byte flags = reader.ReadByte();
        if ((flags & ~(RemovesObservedFlag | ScopedFlag)) != 0 || flags == ScopedFlag)
        {
            throw new FormatException($"Key delta flags {flags} are not known (a removal scope needs a whole-key remove).");
        }

        KeyHeader header = KeyHeader.Decode(reader.ReadBytes(reader.ReadCount(source.Length, "header bytes")));
        int count = reader.ReadCount(Math.Min(MaxElements, reader.Remaining / MinElementBytes), "elements");
        var elements = new KeyValuePair<byte[], ElementDelta>[count];
        for (int i = 0; i < count; i++)
        {
            byte[] name = reader.ReadBytes(reader.ReadCount(source.Length, "element name bytes")).ToArray();
            ElementState writes = ElementState.Decode(reader.ReadBytes(reader.ReadCount(source.Length, "element state bytes")));
            DotContext context = DotContext.ReadFrom(ref reader);
            elements[i] = new(name, new ElementDelta(writes, context));
        }

        ElementRange? scope = null;
        if ((flags & ScopedFlag) != 0)
        {
            byte[]? after = ReadBound(ref reader, source.Length);
            scope = new ElementRange(after, ReadBound(ref reader, source.Length));
        }

        reader.ExpectEnd();
        return new KeyDelta(header, elements, (flags & RemovesObservedFlag) != 0, scope);
    }

    /// <summary>Element names in byte order, as engines keep them.</summary>
    private sealed class NameOrder : IComparer<byte[]>
    {
        public static NameOrder Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
