using Dynamite.Core.KeyValue;
using Dynamite.Core.Versioning;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// Joins a <see cref="KeyDelta"/> into a cluster replica's stored state of the key, inside one storage operation
/// (docs/DATA-TYPES.md, "Join"): the headers join (<see cref="KeyHeader.Join"/>), and each element the delta names is
/// read, joined (<see cref="ElementDelta.ApplyTo"/> against the key's context as stored before the delta) and written
/// back, or deleted once nothing is left of it. One point read and write per changed element: O(log n) in the
/// collection. The replica's element count stays exact. The join is commutative, associative and idempotent, so
/// retries, hints, duplicated messages and any delivery order converge.
/// <para>
/// The header is kept when the last element goes (a count of 0): its context is what stops a late copy of a removed
/// element from coming back, so it is collected later like a string tombstone, never at once.
/// </para>
/// <para>
/// Types: when the joined header's type differs from the stored one (a concurrent creation of another type won), the
/// stored elements are dropped; when the stored type wins, the delta's elements are ignored and only its context is
/// kept. A plain record (a string, stored as a <see cref="VersionedObject"/> on a cluster) yields to the delta only
/// when the delta's creation is later than the string's last-writer-wins write (timestamp, then dot); the string
/// path must apply the mirror of this rule for both to converge.
/// </para>
/// </summary>
public static class TypedKeyJoin
{
    private const int ScanPageSize = 1024;

    /// <summary>Joins <paramref name="delta"/> into <paramref name="key"/>; returns true when anything stored changed.</summary>
    public static bool Apply(IStorageTransaction transaction, byte[] key, KeyDelta delta)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(delta);
        TypedKeyRecord? stored = null;
        if (transaction.TryRead(key, out StoredRecord record))
        {
            if (!record.IsTypedHeader)
            {
                if (!LaterThanString(delta.Header.Created, record))
                {
                    return false;
                }

                transaction.Delete(key);
            }
            else
            {
                stored = TypedKeyRecord.Decode(record.Value);
            }
        }
        else
        {
            // Absent, or expired and not swept yet: an expired key's elements must not be lent to the key created now.
            transaction.DeleteAllElements(key);
        }

        KeyHeader storedHeader = stored?.Header ?? KeyHeader.Create(delta.Header.Type, delta.Header.Created);
        DotContext storedContext = stored?.Header.Context ?? DotContext.Empty;
        KeyHeader header = stored is null ? delta.Header : KeyHeader.Join(stored.Header, delta.Header);
        long count = stored?.ElementCount ?? 0;
        bool changed = stored is null;
        ulong digest = 0;
        if (stored is not null && header.Type != storedHeader.Type)
        {
            // A creation of another type won: what the stored type held goes on every replica.
            transaction.DeleteAllElements(key);
            storedContext = DotContext.Empty;
            count = 0;
            changed = true;
        }
        else if (stored is not null)
        {
            if (stored.ElementDigest is ulong kept)
            {
                digest = kept;
            }
            else
            {
                // Written without a digest (by a standalone node, or before digests existed): computed once, kept after.
                digest = DigestElements(transaction, key);
                changed = true;
            }
        }

        DotContext context = header.Context;
        bool indexed = header.Type == DataType.SortedSet;
        if (header.Type == delta.Header.Type)
        {
            if (delta.RemovesObserved)
            {
                // A whole-key remove's context covers every element. The elements the delta names are joined with it
                // below (so a write both sides hold stays, as the join of two states keeps it: a whole key sent by
                // anti-entropy is such a delta); every other element loses what it observed here.
                var named = new HashSet<byte[]>(delta.Elements.Select(static element => element.Key), ByteArrayComparer.Instance);
                count -= RemoveObserved(transaction, key, storedContext, delta.Header.Context, named, delta.RemovalScope, indexed, ref digest, ref changed);
            }

            foreach ((byte[] name, ElementDelta elementDelta) in delta.Elements)
            {
                ElementState before = transaction.TryReadElement(key, name, out byte[]? encoded) ? ElementState.Decode(encoded) : ElementState.Empty;
                ElementState after = delta.RemovesObserved
                    ? ElementState.Join(before, storedContext, elementDelta.Writes, elementDelta.Context.Union(delta.Header.Context))
                    : elementDelta.ApplyTo(before, storedContext).Element;
                context = context.Union(elementDelta.Context);
                if (ReferenceEquals(after, before))
                {
                    continue;
                }

                digest ^= Store(transaction, key, name, before, encoded, after, indexed);
                count += (after.IsPresent ? 1 : 0) - (before.IsPresent ? 1 : 0);
                changed = true;
            }
        }
        else
        {
            foreach ((_, ElementDelta elementDelta) in delta.Elements)
            {
                context = context.Union(elementDelta.Context);
            }
        }

        if (!changed && context.Equals(storedHeader.Context) && header.Equals(stored?.Header))
        {
            return false;
        }

        transaction.Write(key, new TypedKeyRecord(header.WithContext(context), count, digest).ToStoredRecord());
        return true;
    }

    /// <summary>The <see cref="TypedKeyRecord.ElementDigest"/> of the elements <paramref name="key"/> stores, by a walk of them all.</summary>
    public static ulong DigestElements(IStorageTransaction transaction, byte[] key)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(key);
        ulong digest = 0;
        foreach (StoredElement element in transaction.AllElements(key))
        {
            digest ^= TypedKeyRecord.DigestOf(element.Name, element.Value);
        }

        return digest;
    }

    /// <summary>
    /// A whole-key remove: drops every stored write <paramref name="removed"/> covers, in every element but those
    /// <paramref name="joinedLater"/> names (within <paramref name="scope"/> when it is one page of a whole key);
    /// returns how many present elements went.
    /// </summary>
    private static long RemoveObserved(IStorageTransaction transaction, byte[] key, DotContext storedContext, DotContext removed, HashSet<byte[]> joinedLater, ElementRange? scope, bool indexed, ref ulong digest, ref bool changed)
    {
        long gone = 0;
        var updates = new List<(byte[] Name, ElementState Before, byte[] BeforeEncoded, ElementState After)>();
        byte[]? after = scope?.After;
        ElementPage page;
        bool past = false;
        do
        {
            page = transaction.ScanElements(key, after, ScanPageSize);
            foreach (StoredElement element in page.Elements)
            {
                if (scope is not null && scope.IsPast(element.Name))
                {
                    past = true;
                    break;
                }

                if (joinedLater.Contains(element.Name))
                {
                    continue;
                }

                ElementState before = ElementState.Decode(element.Value);
                ElementState joined = ElementState.Join(before, storedContext, ElementState.Empty, removed);
                if (!ReferenceEquals(joined, before))
                {
                    updates.Add((element.Name, before, element.Value, joined));
                }
            }

            after = page.ResumeAfter;
        }
        while (page.HasMore && !past);

        // Staged after the scan, so the scan never sees its own page's changes.
        foreach ((byte[] name, ElementState before, byte[] beforeEncoded, ElementState joined) in updates)
        {
            digest ^= Store(transaction, key, name, before, beforeEncoded, joined, indexed);
            gone += (before.IsPresent ? 1 : 0) - (joined.IsPresent ? 1 : 0);
            changed = true;
        }

        return gone;
    }

    /// <summary>Writes an element's joined state, and moves its score index entry when the key is a sorted set
    /// (<paramref name="indexed"/>): the one place a sorted set's members change, on every kind of node. Returns what
    /// the change XORs into the record's element digest (<paramref name="beforeEncoded"/>: the state stored before,
    /// null when none was).</summary>
    private static ulong Store(IStorageTransaction transaction, byte[] key, byte[] name, ElementState before, byte[]? beforeEncoded, ElementState state, bool indexed)
    {
        ulong digestChange = beforeEncoded is null ? 0 : TypedKeyRecord.DigestOf(name, beforeEncoded);
        if (state.IsEmpty)
        {
            transaction.DeleteElement(key, name);
        }
        else
        {
            byte[] encoded = state.Encode();
            transaction.WriteElement(key, name, encoded);
            digestChange ^= TypedKeyRecord.DigestOf(name, encoded);
        }

        if (indexed)
        {
            ScoreIndex.Move(transaction, key, name, before, state);
        }

        return digestChange;
    }

    /// <summary>True when a typed key created at <paramref name="created"/> replaces the string stored in <paramref name="record"/>.</summary>
    private static bool LaterThanString(Stamp created, StoredRecord record) => ReplacesString(created, VersionedObject.Decode(record.Value));

    /// <summary>True when a typed key created at <paramref name="created"/> replaces <paramref name="stringObject"/> (created later than its last-writer-wins write).</summary>
    public static bool ReplacesString(Stamp created, VersionedObject stringObject)
    {
        ArgumentNullException.ThrowIfNull(stringObject);
        Sibling? winner = stringObject.ResolveLastWriterWins();
        return winner is null || created.IsLaterThan(new Stamp(winner.TimestampUnixMs, winner.Dot));
    }
}
