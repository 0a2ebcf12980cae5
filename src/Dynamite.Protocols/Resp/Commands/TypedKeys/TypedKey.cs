using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;

namespace Dynamite.Protocols.Resp.Commands.TypedKeys;

/// <summary>
/// A typed key (a hash, a set) as a standalone node stores it (docs/DATA-TYPES.md): the key's record is a
/// <see cref="TypedKeyRecord"/> (a <see cref="KeyHeader"/> of the key's type and the live element count) of kind
/// <see cref="RecordKind.TypedHeader"/>, and each field or member is an element whose value is an
/// <see cref="ElementState"/> encoding. Every write takes a new dot of the node's actor from the key's context, so the
/// cluster step can join these states unchanged. One element is one element read or write: O(log n) in the key, never
/// a read-modify-write of the whole collection. What is particular to one type (how a hash field renders its value)
/// lives with that type.
/// </summary>
internal static class TypedKey
{
    /// <summary>
    /// Opens <paramref name="key"/> as a key of <paramref name="type"/>: true with its record when it is one, true
    /// with null when it is absent, false when it holds another type (WRONGTYPE).
    /// </summary>
    public static bool TryOpen(IStorageTransaction transaction, byte[] key, DataType type, out TypedKeyRecord? typed)
    {
        typed = null;
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            return true;
        }

        if (!record.IsTypedHeader || TypedKeyRecord.TypeOf(record.Value) != type)
        {
            return false;
        }

        typed = TypedKeyRecord.Decode(record.Value);
        return true;
    }

    /// <summary>
    /// A new key of <paramref name="type"/> stamped by the node's next dot. The key read as absent (or is being
    /// replaced), so any elements it still has (an expired, not yet swept key; a replaced collection) are deleted in
    /// the same write. <paramref name="observed"/> is the context of a typed key being replaced: the new header keeps
    /// it, so the node never issues one of its dots again.
    /// </summary>
    public static TypedKeyRecord Create(IStorageTransaction transaction, byte[] key, DataType type, NodeId actor, DotContext? observed = null)
    {
        transaction.DeleteAllElements(key);
        DotContext context = observed ?? DotContext.Empty;
        Dot created = context.NextDot(actor);
        KeyHeader header = KeyHeader.Create(type, new Stamp(transaction.NowUnixMs, created));
        return new TypedKeyRecord(header.WithContext(context.Add(created)), 0);
    }

    /// <summary>Stages the record, or deletes the key when its last element went (Redis removes an empty collection).</summary>
    public static void Save(IStorageTransaction transaction, byte[] key, TypedKeyRecord typed)
    {
        if (typed.ElementCount == 0)
        {
            transaction.Delete(key);
        }
        else
        {
            // A standalone node keeps no element digest (no anti-entropy reads it); one kept before is stale now.
            transaction.Write(key, (typed.ElementDigest is null ? typed : typed with { ElementDigest = null }).ToStoredRecord());
        }
    }

    /// <summary>
    /// <paramref name="current"/> with its expiry set to <paramref name="expiresAtUnixMs"/> (0: none). A typed key's
    /// header carries its expiry as a last-writer-wins register, stamped by a new dot of the node; a plain record only
    /// changes its expiry field.
    /// </summary>
    public static StoredRecord WithExpiry(StoredRecord current, long expiresAtUnixMs, long nowUnixMs, NodeId actor)
    {
        if (!current.IsTypedHeader)
        {
            return current with { ExpiresAtUnixMs = expiresAtUnixMs };
        }

        TypedKeyRecord typed = TypedKeyRecord.Decode(current.Value);
        Dot dot = typed.Header.Context.NextDot(actor);
        KeyHeader header = typed.Header.WithContext(typed.Header.Context.Add(dot)).WithExpiry(expiresAtUnixMs, new Stamp(nowUnixMs, dot));
        return (typed with { Header = header }).ToStoredRecord();
    }

    public static ElementState? ReadElement(IStorageTransaction transaction, byte[] key, ReadOnlySpan<byte> name) =>
        transaction.TryReadElement(key, name, out byte[]? encoded) ? ElementState.Decode(encoded) : null;

    /// <summary>
    /// A register write of <paramref name="value"/> with a new dot, superseding every write the element held (its dots
    /// are in the context already). Returns the record with the dot added to its context; the count is the caller's.
    /// </summary>
    public static TypedKeyRecord WriteRegister(IStorageTransaction transaction, byte[] key, TypedKeyRecord typed, byte[] name, byte[] value, NodeId actor)
    {
        Dot dot = typed.Header.Context.NextDot(actor);
        ElementState state = ElementState.Of([new ElementWrite(dot, transaction.NowUnixMs, value)]);
        transaction.WriteElement(key, name, state.Encode());
        return typed with { Header = typed.Header.WithContext(typed.Header.Context.Add(dot)) };
    }

    /// <summary>Every element of the key in name order, read in bounded pages (one engine call per page).</summary>
    public static IEnumerable<StoredElement> AllElements(IStorageTransaction transaction, byte[] key) => transaction.AllElements(key);
}
