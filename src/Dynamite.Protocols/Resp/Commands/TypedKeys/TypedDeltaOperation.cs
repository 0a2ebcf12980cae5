using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;

namespace Dynamite.Protocols.Resp.Commands.TypedKeys;

/// <summary>
/// A write of one typed key (a sorted set, a list), written once for both kinds of node: the command says what it changes through a
/// <see cref="KeyDeltaBuilder"/> over the key's state (<see cref="Change"/>). A cluster node builds that delta on a
/// primary and replicates it (<see cref="IKeyDeltaOperation"/>); a standalone node joins the same delta into its own
/// store in the same storage operation (<see cref="Execute"/>) and deletes the key when its last member went, as Redis
/// removes an empty collection. One code path for both keeps a single node's answers and a cluster's merges from
/// drifting apart; the cost on a single node is the delta's allocation.
/// </summary>
internal abstract class TypedDeltaOperation(byte[] key, DataType type, NodeId actor) : ITypedKeyOperation, IKeyDeltaOperation
{
    public int TouchedKeyCount => 1;

    public byte[] Key => key;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool WrongType { get; private set; }

    /// <summary>The node whose dots this run takes (the coordinator on a cluster, the node itself standalone).</summary>
    protected NodeId Actor { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        // A standalone node stores a string as a plain record, which the builder (made for a cluster's versioned strings)
        // must not read: WRONGTYPE is found here first.
        if (!TypedKey.TryOpen(transaction, key, type, out _))
        {
            Restart();
            WrongType = true;
            return;
        }

        KeyDelta? delta = Build(transaction, actor, replicated: false);
        if (delta is null)
        {
            return;
        }

        TypedKeyJoin.Apply(transaction, key, delta);
        if (transaction.TryRead(key, out StoredRecord record) && record.IsTypedHeader && TypedKeyRecord.CountOf(record.Value) == 0)
        {
            transaction.Delete(key);
        }
    }

    public KeyDelta? BuildDelta(IStorageTransaction transaction, NodeId coordinator) => Build(transaction, coordinator, replicated: true);

    public virtual void AfterJoin(IStorageTransaction transaction)
    {
    }

    /// <summary>Clears what an earlier run found (a retried group commit runs the operation again).</summary>
    protected abstract void Restart();

    /// <summary>
    /// The command's change of the key. <paramref name="replicated"/> is true on a cluster node, where an increment is a
    /// counter write (concurrent ones all count) rather than the register of the sum a single node writes to compute
    /// exactly as redis-server does.
    /// </summary>
    protected abstract void Change(KeyDeltaBuilder builder, IStorageTransaction transaction, bool replicated);

    private KeyDelta? Build(IStorageTransaction transaction, NodeId writer, bool replicated)
    {
        Restart();
        Actor = writer;
        KeyDeltaBuilder? builder = KeyDeltaBuilder.Open(transaction, key, type, writer);
        WrongType = builder is null;
        if (builder is null)
        {
            return null;
        }

        Change(builder, transaction, replicated);
        return builder.Build();
    }
}
