using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.SetOperations;

/// <summary>
/// SMOVE on a standalone node, as one atomic operation over both keys: the member's element is deleted from the source
/// (the source deleted when it empties) and written to the destination under a new dot (the destination created when
/// absent). Redis's order of checks: a missing source answers 0 whatever the destination holds; then either key
/// holding another type is WRONGTYPE.
/// </summary>
internal sealed class SetMoveOperation(byte[] source, byte[] destination, byte[] member, NodeId actor) : ITypedKeyOperation
{
    public int TouchedKeyCount => 2;

    public byte[] GetTouchedKey(int index) => index switch
    {
        0 => source,
        1 => destination,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public bool WrongType { get; private set; }

    /// <summary>True when the member was in the source (and is now in the destination).</summary>
    public bool Moved { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        if (!transaction.TryRead(source, out _))
        {
            return;
        }

        if (!TypedKey.TryOpen(transaction, source, DataType.Set, out TypedKeyRecord? from)
            || !TypedKey.TryOpen(transaction, destination, DataType.Set, out TypedKeyRecord? to))
        {
            WrongType = true;
            return;
        }

        if (!transaction.TryReadElement(source, member, out _))
        {
            return;
        }

        Moved = true;
        if (source.AsSpan().SequenceEqual(destination))
        {
            return;
        }

        transaction.DeleteElement(source, member);
        TypedKey.Save(transaction, source, from! with { ElementCount = from.ElementCount - 1 });

        to ??= TypedKey.Create(transaction, destination, DataType.Set, actor);
        bool present = transaction.TryReadElement(destination, member, out _);
        to = TypedKey.WriteRegister(transaction, destination, to, member, [], actor);
        TypedKey.Save(transaction, destination, to with { ElementCount = to.ElementCount + (present ? 0 : 1) });
    }
}
