using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.ListOperations;

/// <summary>
/// The reads of one list (LRANGE, LINDEX, LPOS, LLEN), as one consistent read of the key: its length from the
/// header, or every item in order (on a cluster, a quorum read of the joined replicas). Writes nothing.
/// </summary>
internal sealed class ListRead(byte[] key, bool lengthOnly) : ITypedKeyOperation, IElementReadOperation
{
    public int TouchedKeyCount => 1;

    public byte[] Key => key;

    public IReadOnlyList<byte[]>? Names => null;

    public byte[]? After => null;

    public int Limit => 0;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool WrongType { get; private set; }

    /// <summary>True when the key holds a list with at least one item.</summary>
    public bool Exists { get; private set; }

    public long Length { get; private set; }

    /// <summary>Every item in order (not for a length read).</summary>
    public List<ListItem> Items { get; } = [];

    public void Execute(IStorageTransaction transaction)
    {
        Items.Clear();
        Exists = false;
        WrongType = false;
        Length = 0;
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            return;
        }

        if (!record.IsTypedHeader || TypedKeyRecord.TypeOf(record.Value) != DataType.List)
        {
            WrongType = true;
            return;
        }

        if (lengthOnly)
        {
            Length = TypedKeyRecord.CountOf(record.Value);
        }
        else
        {
            ListItem.ReadAll(transaction, key, Items);
            Length = Items.Count;
        }

        // On a cluster the header a list's last removal left stays (with its context): that list reads as absent.
        Exists = Length > 0;
    }
}
