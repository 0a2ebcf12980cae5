using Dynamite.Core.Versioning;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// What a quorum read of a typed key answers: the join of R replicas' answers (<see cref="ReplicaElements"/>), made
/// as their states would join (docs/DATA-TYPES.md, "Join"), so a read sees every write any of them holds and none
/// that one of them removed having seen it. Nothing is stored: a partial read must not join the contexts of
/// elements it did not read into a replica.
/// </summary>
/// <param name="Header">The joined header, when the key is a typed key (null: absent, or a string).</param>
/// <param name="Plain">The joined string, when a string wins over any typed key at the key (null: none).</param>
/// <param name="Elements">The selected elements that are present, in name order.</param>
/// <param name="ResumeAfter">For a page: the name the next page starts after; null when this page was the last.</param>
public sealed record TypedReadJoin(KeyHeader? Header, VersionedObject? Plain, IReadOnlyList<KeyValuePair<byte[], ElementState>> Elements, byte[]? ResumeAfter)
{
    /// <summary>Every name the join covered (present or not): its joined state and every dot any answer held for it.</summary>
    private IReadOnlyList<(byte[] Name, ElementState Joined, DotContext Seen)> _covered = [];

    /// <summary>
    /// True when every answer held the whole key (a first page that no replica continued): the joined header's context
    /// then covers exactly the joined elements and what the answers removed, so read repair may carry it whole.
    /// </summary>
    public bool WholeKey { get; private init; }

    /// <param name="replies">R replicas' answers.</param>
    /// <param name="wholeKey">The selection was a first page (no start, not an index window), so answers without more are the whole key.</param>
    public static TypedReadJoin Of(IReadOnlyList<ReplicaElements> replies, bool wholeKey = false)
    {
        ArgumentNullException.ThrowIfNull(replies);
        VersionedObject? plain = null;
        KeyHeader? header = null;
        var typed = new List<(KeyHeader Header, ReplicaElements Reply)>();
        foreach (ReplicaElements reply in replies)
        {
            if (reply.Kind == StoredKeyKind.Plain)
            {
                plain = (plain ?? VersionedObject.Empty).Merge(VersionedObject.Decode(reply.Record));
            }
            else if (reply.Kind == StoredKeyKind.Typed)
            {
                KeyHeader stored = TypedKeyRecord.Decode(reply.Record).Header;
                header = header is null ? stored : KeyHeader.Join(header, stored);
                typed.Add((stored, reply));
            }
        }

        if (header is not null && plain is not null)
        {
            // The rule the replicas apply (TypedKeyJoin): a typed key replaces a string only when created later.
            if (TypedKeyJoin.ReplacesString(header.Created, plain))
            {
                plain = null;
            }
            else
            {
                header = null;
            }
        }

        if (header is null)
        {
            return new TypedReadJoin(null, plain is { } p && p.ResolveLastWriterWins() is { IsTombstone: false } ? p : null, [], null);
        }

        // A page covers, on every replica, the names up to the smallest last name of a replica that has more.
        byte[]? cutoff = null;
        foreach ((_, ReplicaElements reply) in typed)
        {
            if (reply.HasMore && reply.Elements.Count > 0 && (cutoff is null || Compare(reply.Elements[^1].Key, cutoff) < 0))
            {
                cutoff = reply.Elements[^1].Key;
            }
        }

        var names = new SortedDictionary<byte[], ElementState>(Comparer<byte[]>.Create(Compare));
        foreach ((KeyHeader stored, ReplicaElements reply) in typed)
        {
            if (stored.Type != header.Type)
            {
                continue;
            }

            foreach ((byte[] name, _) in reply.Elements)
            {
                if (cutoff is null || Compare(name, cutoff) <= 0)
                {
                    names.TryAdd(name, ElementState.Empty);
                }
            }
        }

        var elements = new List<KeyValuePair<byte[], ElementState>>(names.Count);
        var covered = new List<(byte[] Name, ElementState Joined, DotContext Seen)>(names.Count);
        foreach (byte[] name in names.Keys)
        {
            ElementState joined = ElementState.Empty;
            DotContext seen = DotContext.Empty;
            var held = new List<Dot>();
            foreach ((KeyHeader stored, ReplicaElements reply) in typed)
            {
                if (stored.Type != header.Type)
                {
                    continue;
                }

                ElementState state = Find(reply, name) ?? ElementState.Empty;
                joined = ElementState.Join(joined, seen, state, stored.Context);
                seen = seen.Union(stored.Context);
                held.AddRange(state.Dots());
            }

            covered.Add((name, joined, DotContext.Of(held)));
            if (joined.IsPresent)
            {
                elements.Add(new(name, joined));
            }
        }

        bool complete = typed.TrueForAll(static t => !t.Reply.HasMore);
        return new TypedReadJoin(header, null, elements, cutoff) { _covered = covered, WholeKey = wholeKey && complete };
    }

    /// <summary>
    /// The change that brings <paramref name="reply"/>'s replica up to this join for the elements the read covered (read
    /// repair), or null when it holds them already. Each repaired element carries the joined writes and, as its context,
    /// only the dots some answer held for that element: the writes it lacks arrive, the ones another replica removed
    /// having seen them go, and no other element's dots are marked seen. A <see cref="WholeKey"/> read also carries the
    /// joined context whole, and repairs a replica whose context alone is behind: an add and its remove that both
    /// missed it leave dots no element holds, which no element's repair would carry (a window read must not: its
    /// context also covers elements outside the window, which the replica would then take as removed).
    /// </summary>
    public KeyDelta? RepairFor(ReplicaElements reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (Header is null)
        {
            return null;
        }

        KeyHeader? replyHeader = reply.Kind == StoredKeyKind.Typed ? TypedKeyRecord.Decode(reply.Record).Header : null;
        bool sameType = replyHeader is not null && replyHeader.Type == Header.Type;
        var changes = new List<KeyValuePair<byte[], ElementDelta>>();
        foreach ((byte[] name, ElementState joined, DotContext seen) in _covered)
        {
            ElementState held = sameType ? Find(reply, name) ?? ElementState.Empty : ElementState.Empty;
            if (!held.Equals(joined))
            {
                changes.Add(new(name, new ElementDelta(joined, seen)));
            }
        }

        bool contextBehind = WholeKey && sameType && !replyHeader!.Context.Equals(Header.Context);
        if (changes.Count == 0 && sameType && !contextBehind)
        {
            return null;
        }

        if (WholeKey)
        {
            return new KeyDelta(Header, changes);
        }

        // The header's registers (type and creation, expiry) travel with the dots that stamped them, nothing else.
        Dot[] stamps = [.. new[] { Header.Created.Dot, Header.ExpirySet.Dot }.OfType<Dot>()];
        return new KeyDelta(Header.WithContext(DotContext.Of(stamps)), changes);
    }

    private static ElementState? Find(ReplicaElements reply, byte[] name)
    {
        foreach ((byte[] candidate, ElementState state) in reply.Elements)
        {
            if (candidate.AsSpan().SequenceEqual(name))
            {
                return state;
            }
        }

        return null;
    }

    private static int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
