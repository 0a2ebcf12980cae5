using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.SetOperations;

/// <summary>What a <see cref="SetAlgebraOperation"/> computes.</summary>
internal enum SetAlgebra
{
    /// <summary>SINTER, SINTERSTORE, SINTERCARD.</summary>
    Intersection,

    /// <summary>SUNION, SUNIONSTORE.</summary>
    Union,

    /// <summary>SDIFF, SDIFFSTORE.</summary>
    Difference,
}

/// <summary>
/// SINTER, SUNION, SDIFF, their STORE forms and SINTERCARD on a standalone node, as one atomic operation over every key
/// they name, with redis-server's semantics: every source is type-checked first (one of another type is WRONGTYPE and
/// nothing changes), a missing source is an empty set, and a STORE replaces its destination whatever it held
/// (its elements deleted in the same write, no expiry kept), or deletes it when the result is empty.
/// An intersection walks the smallest set in pages and tests each member with one point read per other set; a
/// difference walks the first set the same way; a union walks them all.
/// </summary>
internal sealed class SetAlgebraOperation(SetAlgebra algebra, byte[][] sources, byte[]? destination, NodeId actor) : ITypedKeyOperation, IMultiKeyElementReadOperation
{
    /// <summary>
    /// The sources, which a cluster node reads whole before running the algebra over their joins (the read forms only: a
    /// cluster node refuses the STORE forms before anything runs).
    /// </summary>
    public IReadOnlyList<byte[]> Keys => destination is null ? sources : throw new InvalidOperationException("A STORE form of set algebra is not a read.");

    public int TouchedKeyCount => sources.Length + (destination is null ? 0 : 1);

    public byte[] GetTouchedKey(int index) => destination is null ? sources[index] : index == 0 ? destination : sources[index - 1];

    public bool WrongType { get; private set; }

    /// <summary>SINTERCARD: count the intersection instead of collecting it, stopping at this many (0: no limit).</summary>
    public long? CountUpTo { get; init; }

    /// <summary>The result's members (not for SINTERCARD, nor a STORE).</summary>
    public List<byte[]> Members { get; } = [];

    /// <summary>How many members the result has (a STORE's reply, SINTERCARD's).</summary>
    public long Cardinality { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        var sets = new TypedKeyRecord?[sources.Length];
        for (int i = 0; i < sources.Length; i++)
        {
            if (!TypedKey.TryOpen(transaction, sources[i], DataType.Set, out sets[i]))
            {
                WrongType = true;
                return;
            }
        }

        switch (algebra)
        {
            case SetAlgebra.Intersection:
                Intersect(transaction, sets);
                break;
            case SetAlgebra.Union:
                Unite(transaction, sets);
                break;
            case SetAlgebra.Difference:
                Subtract(transaction, sets);
                break;
        }

        if (CountUpTo is null)
        {
            Cardinality = Members.Count;
        }

        if (destination is not null)
        {
            Store(transaction, destination);
        }
    }

    private void Intersect(IStorageTransaction transaction, TypedKeyRecord?[] sets)
    {
        if (Array.Exists(sets, static set => set is null))
        {
            return;
        }

        int smallest = 0;
        for (int i = 1; i < sets.Length; i++)
        {
            smallest = sets[i]!.ElementCount < sets[smallest]!.ElementCount ? i : smallest;
        }

        foreach (StoredElement element in TypedKey.AllElements(transaction, sources[smallest]))
        {
            if (!InEvery(transaction, element.Name, smallest))
            {
                continue;
            }

            if (CountUpTo is not { } limit)
            {
                Members.Add(element.Name);
            }
            else if (++Cardinality == limit)
            {
                return;
            }
        }
    }

    /// <summary>True when every source other than <paramref name="walked"/> (and other than a repeat of it) holds the member.</summary>
    private bool InEvery(IStorageTransaction transaction, byte[] member, int walked)
    {
        for (int j = 0; j < sources.Length; j++)
        {
            if (j != walked && !sources[j].AsSpan().SequenceEqual(sources[walked]) && !transaction.TryReadElement(sources[j], member, out _))
            {
                return false;
            }
        }

        return true;
    }

    private void Unite(IStorageTransaction transaction, TypedKeyRecord?[] sets)
    {
        var seen = new HashSet<byte[]>(ByteArrayComparer.Instance);
        for (int i = 0; i < sets.Length; i++)
        {
            if (sets[i] is null)
            {
                continue;
            }

            foreach (StoredElement element in TypedKey.AllElements(transaction, sources[i]))
            {
                if (seen.Add(element.Name))
                {
                    Members.Add(element.Name);
                }
            }
        }
    }

    private void Subtract(IStorageTransaction transaction, TypedKeyRecord?[] sets)
    {
        if (sets[0] is null)
        {
            return;
        }

        for (int j = 1; j < sources.Length; j++)
        {
            if (sources[j].AsSpan().SequenceEqual(sources[0]))
            {
                return; // the first set minus itself
            }
        }

        foreach (StoredElement element in TypedKey.AllElements(transaction, sources[0]))
        {
            bool elsewhere = false;
            for (int j = 1; j < sources.Length && !elsewhere; j++)
            {
                elsewhere = sets[j] is not null && transaction.TryReadElement(sources[j], element.Name, out _);
            }

            if (!elsewhere)
            {
                Members.Add(element.Name);
            }
        }
    }

    /// <summary>
    /// Replaces the destination with the result. Every source was read before, so a destination that is also a source
    /// is read as it was. A typed key being replaced lends its context to the new header, so the node never issues one
    /// of its dots again.
    /// </summary>
    private void Store(IStorageTransaction transaction, byte[] key)
    {
        bool existed = transaction.TryRead(key, out StoredRecord current);
        if (Members.Count == 0)
        {
            if (existed)
            {
                transaction.Delete(key);
            }

            return;
        }

        TypedKeyRecord set = TypedKey.Create(transaction, key, DataType.Set, actor, existed && current.IsTypedHeader ? TypedKeyRecord.Decode(current.Value).Header.Context : null);
        foreach (byte[] member in Members)
        {
            set = TypedKey.WriteRegister(transaction, key, set, member, [], actor);
        }

        TypedKey.Save(transaction, key, set with { ElementCount = Members.Count });
    }
}
