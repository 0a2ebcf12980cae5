using System.Globalization;
using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;

namespace Dynamite.Protocols.Resp.Commands.HashOperations;

/// <summary>
/// A hash as a standalone node stores it (docs/DATA-TYPES.md): the key's record is a <see cref="TypedKeyRecord"/>
/// (a <see cref="KeyHeader"/> of type hash and the live field count) of kind <see cref="RecordKind.TypedHeader"/>, and
/// each field is an element whose value is an <see cref="ElementState"/> encoding: a last-writer-wins register write
/// (HSET, HINCRBYFLOAT) or counter writes of the node's chain on top of it (HINCRBY). Every write takes a new dot of
/// the node's actor from the key's context, so the cluster step can join these states unchanged. One field is one
/// element read or write: O(log n) in the hash, never a read-modify-write of the whole hash.
/// </summary>
internal static class HashKey
{
    /// <summary>
    /// Opens <paramref name="key"/> as a hash: true with its record when it is one, true with null when it is absent,
    /// false when it holds another type (WRONGTYPE).
    /// </summary>
    public static bool TryOpen(IStorageTransaction transaction, byte[] key, out TypedKeyRecord? hash)
    {
        hash = null;
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            return true;
        }

        if (!record.IsTypedHeader || TypedKeyRecord.TypeOf(record.Value) != DataType.Hash)
        {
            return false;
        }

        hash = TypedKeyRecord.Decode(record.Value);
        return true;
    }

    /// <summary>
    /// A new hash stamped by the node's next dot. The key read as absent, so any elements an expired, not yet swept
    /// key left are deleted in the same write.
    /// </summary>
    public static TypedKeyRecord Create(IStorageTransaction transaction, byte[] key, NodeId actor)
    {
        transaction.DeleteAllElements(key);
        Dot created = DotContext.Empty.NextDot(actor);
        KeyHeader header = KeyHeader.Create(DataType.Hash, new Stamp(transaction.NowUnixMs, created));
        return new TypedKeyRecord(header.WithContext(DotContext.Empty.Add(created)), 0);
    }

    /// <summary>Stages the record, or deletes the key when its last field went (Redis removes an empty hash).</summary>
    public static void Save(IStorageTransaction transaction, byte[] key, TypedKeyRecord hash)
    {
        if (hash.ElementCount == 0)
        {
            transaction.Delete(key);
        }
        else
        {
            transaction.Write(key, hash.ToStoredRecord());
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

    public static ElementState? ReadField(IStorageTransaction transaction, byte[] key, ReadOnlySpan<byte> field) =>
        transaction.TryReadElement(key, field, out byte[]? encoded) ? ElementState.Decode(encoded) : null;

    /// <summary>
    /// A register write of <paramref name="value"/> with a new dot, superseding every write the field held (its dots
    /// are in the context already). Returns the hash with the dot added to its context.
    /// </summary>
    public static TypedKeyRecord WriteRegister(IStorageTransaction transaction, byte[] key, TypedKeyRecord hash, byte[] field, byte[] value, NodeId actor)
    {
        Dot dot = hash.Header.Context.NextDot(actor);
        ElementState state = ElementState.Of([new ElementWrite(dot, transaction.NowUnixMs, value)]);
        transaction.WriteElement(key, field, state.Encode());
        return hash with { Header = hash.Header.WithContext(hash.Header.Context.Add(dot)) };
    }

    /// <summary>
    /// The field's value as Redis shows it: the register's bytes, or, when counter writes are live, the register's
    /// integer (0 without one) plus what the counters added, in decimal. Null when the field holds nothing.
    /// </summary>
    public static byte[] Render(ElementState state)
    {
        ElementWrite? register = state.RegisterWinner();
        if (state.LiveChains().Count == 0)
        {
            return register?.Value ?? [];
        }

        long baseValue = 0;
        if (register?.Value is { } text)
        {
            _ = RespNumbers.TryParseInt64(text, out baseValue);
        }

        Int128 sum = baseValue + state.CountSum();
        return Encoding.ASCII.GetBytes(sum.ToString(CultureInfo.InvariantCulture));
    }
}
