using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;

namespace Dynamite.Protocols.Resp.Commands.HashOperations;

/// <summary>What a <see cref="HashWriteOperation"/> does to each field it names.</summary>
internal enum HashWriteMode
{
    /// <summary>HSET and HMSET: write every field.</summary>
    Set,

    /// <summary>HSETNX: write the one field only when it is absent.</summary>
    SetIfAbsent,

    /// <summary>HDEL: delete every field.</summary>
    Delete,
}

/// <summary>
/// HSET, HMSET, HSETNX and HDEL on a standalone node, as one atomic operation: one element read and one element write
/// or delete per field, then the header (context and field count) rewritten, or the key deleted when its last field
/// went. On a key of another type nothing changes (<see cref="WrongType"/>).
/// </summary>
internal sealed class HashWriteOperation(byte[] key, byte[][] fields, byte[][]? values, HashWriteMode mode, NodeId actor) : IHashOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool WrongType { get; private set; }

    /// <summary>Fields added (HSET, HSETNX) or removed (HDEL).</summary>
    public long Changed { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        if (!HashKey.TryOpen(transaction, key, out TypedKeyRecord? hash))
        {
            WrongType = true;
            return;
        }

        if (mode == HashWriteMode.Delete)
        {
            Delete(transaction, hash);
            return;
        }

        hash ??= HashKey.Create(transaction, key, actor);
        long count = hash.ElementCount;
        for (int i = 0; i < fields.Length; i++)
        {
            bool present = transaction.TryReadElement(key, fields[i], out _);
            if (mode == HashWriteMode.SetIfAbsent && present)
            {
                continue;
            }

            hash = HashKey.WriteRegister(transaction, key, hash, fields[i], values![i], actor);
            if (!present)
            {
                count++;
                Changed++;
            }
        }

        HashKey.Save(transaction, key, hash with { ElementCount = count });
    }

    private void Delete(IStorageTransaction transaction, TypedKeyRecord? hash)
    {
        if (hash is null)
        {
            return;
        }

        long count = hash.ElementCount;
        foreach (byte[] field in fields)
        {
            if (transaction.TryReadElement(key, field, out _))
            {
                // Observed-remove: the field's dots stay in the context, so a replica holding them cannot bring it back.
                transaction.DeleteElement(key, field);
                count--;
                Changed++;
            }
        }

        if (Changed > 0)
        {
            HashKey.Save(transaction, key, hash with { ElementCount = count });
        }
    }
}
