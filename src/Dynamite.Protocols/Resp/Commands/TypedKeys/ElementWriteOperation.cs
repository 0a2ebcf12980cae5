using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;

namespace Dynamite.Protocols.Resp.Commands.TypedKeys;

/// <summary>What an <see cref="ElementWriteOperation"/> does to each element it names.</summary>
internal enum ElementWriteMode
{
    /// <summary>HSET, HMSET, SADD: write every element.</summary>
    Set,

    /// <summary>HSETNX: write the one element only when it is absent.</summary>
    SetIfAbsent,

    /// <summary>HDEL, SREM: delete every element.</summary>
    Delete,
}

/// <summary>
/// HSET, HMSET, HSETNX, HDEL, SADD and SREM. On a standalone node, one atomic operation: one element read and one
/// element write or delete per name, then the header (context and element count) rewritten, or the key deleted when
/// its last element went. A write is a register write under a new dot of the node, which supersedes the element's
/// earlier writes (SADD of a present member too: in a cluster the new dot is what makes an add win over a concurrent
/// remove); a set member's value is empty. On a cluster node the same changes are built as a delta from the
/// coordinating primary's state (<see cref="BuildDelta"/>). On a key of another type nothing changes (<see cref="WrongType"/>).
/// </summary>
internal sealed class ElementWriteOperation(byte[] key, DataType type, byte[][] names, byte[][]? values, ElementWriteMode mode, NodeId actor)
    : ITypedKeyOperation, IKeyDeltaOperation, IForwardableOperation
{
    public int TouchedKeyCount => 1;

    public byte[] Key => key;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool WrongType { get; private set; }

    /// <summary>Elements added (HSET, HSETNX, SADD) or removed (HDEL, SREM).</summary>
    public long Changed { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        Changed = 0;
        if (!TypedKey.TryOpen(transaction, key, type, out TypedKeyRecord? typed))
        {
            WrongType = true;
            return;
        }

        if (mode == ElementWriteMode.Delete)
        {
            Delete(transaction, typed);
            return;
        }

        typed ??= TypedKey.Create(transaction, key, type, actor);
        long count = typed.ElementCount;
        for (int i = 0; i < names.Length; i++)
        {
            // Reads see this operation's own writes, so a name given twice counts once.
            bool present = transaction.TryReadElement(key, names[i], out _);
            if (mode == ElementWriteMode.SetIfAbsent && present)
            {
                continue;
            }

            typed = TypedKey.WriteRegister(transaction, key, typed, names[i], values is null ? [] : values[i], actor);
            if (!present)
            {
                count++;
                Changed++;
            }
        }

        TypedKey.Save(transaction, key, typed with { ElementCount = count });
    }

    public KeyDelta? BuildDelta(IStorageTransaction transaction, NodeId coordinator)
    {
        // A retried operation (a group commit that failed) starts over.
        Changed = 0;
        KeyDeltaBuilder? builder = KeyDeltaBuilder.Open(transaction, key, type, coordinator);
        WrongType = builder is null;
        if (builder is null)
        {
            return null;
        }

        for (int i = 0; i < names.Length; i++)
        {
            if (mode == ElementWriteMode.Delete)
            {
                Changed += builder.Remove(names[i]) ? 1 : 0;
                continue;
            }

            bool present = builder.Read(names[i]).IsPresent;
            if (mode == ElementWriteMode.SetIfAbsent && present)
            {
                continue;
            }

            // A set member is a presence write (no value); a hash field a register write of its value.
            builder.Assign(names[i], values?[i]);
            Changed += present ? 0 : 1;
        }

        return builder.Build();
    }

    public void AfterJoin(IStorageTransaction transaction)
    {
    }

    public IReadOnlyList<byte[]> CommandArguments()
    {
        string name = (type, mode) switch
        {
            (DataType.Hash, ElementWriteMode.Set) => "HSET",
            (DataType.Hash, ElementWriteMode.SetIfAbsent) when names.Length == 1 => "HSETNX",
            (DataType.Hash, ElementWriteMode.Delete) => "HDEL",
            (DataType.Set, ElementWriteMode.Set) => "SADD",
            (DataType.Set, ElementWriteMode.Delete) => "SREM",
            _ => throw new InvalidOperationException($"No client command writes {mode} of {names.Length} {type} elements."),
        };
        var arguments = new List<byte[]>(2 + (names.Length * (values is null ? 1 : 2))) { System.Text.Encoding.ASCII.GetBytes(name), key };
        for (int i = 0; i < names.Length; i++)
        {
            arguments.Add(names[i]);
            if (values is not null && mode != ElementWriteMode.Delete)
            {
                arguments.Add(values[i]);
            }
        }

        return arguments;
    }

    private void Delete(IStorageTransaction transaction, TypedKeyRecord? typed)
    {
        if (typed is null)
        {
            return;
        }

        long count = typed.ElementCount;
        foreach (byte[] name in names)
        {
            if (transaction.TryReadElement(key, name, out _))
            {
                // Observed-remove: the element's dots stay in the context, so a replica holding them cannot bring it back.
                transaction.DeleteElement(key, name);
                count--;
                Changed++;
            }
        }

        if (Changed > 0)
        {
            TypedKey.Save(transaction, key, typed with { ElementCount = count });
        }
    }
}
