using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// A typed key as a string read sees it (TYPE, EXISTS, TTL, GET's WRONGTYPE): its joined header while an element is
/// left, read with a range of one element. A typed string (a counter) reads as the string it renders (its register
/// plus its counters), with the key's expiry, so every string command works on it. A string that wins at the key is
/// that string.
/// </summary>
internal sealed class TypedKeyProbe(byte[] key) : IElementReadOperation
{
    public byte[] Key => key;

    public IReadOnlyList<byte[]>? Names => null;

    public byte[]? After => null;

    public int Limit => 1;

    public int TouchedKeyCount => 1;

    public ReadResult Result { get; private set; }

    /// <summary>The typed key's type when one was found (a typed string's <see cref="Result"/> is its rendered value).</summary>
    public DataType? Type { get; private set; }

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public void Execute(IStorageTransaction transaction)
    {
        Result = ReadResult.NotFound;
        Type = null;
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            return;
        }

        if (!record.IsTypedHeader)
        {
            Result = ReadResult.Of(record);
            return;
        }

        // A typed key whose last element went keeps its header (its context) on the replicas, but is absent.
        ElementPage first = transaction.ScanElements(key, null, 1);
        if (first.Elements.Count == 0)
        {
            return;
        }

        Type = TypedKeyRecord.TypeOf(record.Value);
        Result = Type == DataType.String
            ? ReadResult.Of(new StoredRecord(ElementValue.Render(ElementState.Decode(first.Elements[0].Value)), record.ExpiresAtUnixMs))
            : ReadResult.Of(record);
    }
}
