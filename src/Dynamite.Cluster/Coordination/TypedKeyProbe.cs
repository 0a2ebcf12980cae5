using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// A typed key as a string read sees it (TYPE, EXISTS, TTL, GET's WRONGTYPE): its joined header while an element is
/// left, read with a range of one element. A string that wins at the key is that string.
/// </summary>
internal sealed class TypedKeyProbe(byte[] key) : IElementReadOperation
{
    public byte[] Key => key;

    public IReadOnlyList<byte[]>? Names => null;

    public byte[]? After => null;

    public int Limit => 1;

    public int TouchedKeyCount => 1;

    public ReadResult Result { get; private set; }

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public void Execute(IStorageTransaction transaction)
    {
        Result = ReadResult.NotFound;
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            return;
        }

        // A typed key whose last element went keeps its header (its context) on the replicas, but is absent.
        if (!record.IsTypedHeader || transaction.ScanElements(key, null, 1).Elements.Count > 0)
        {
            Result = ReadResult.Of(record);
        }
    }
}
