using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.KeyOperations;

/// <summary>
/// A whole key as a client would rewrite it elsewhere (RENAME and COPY on a cluster node, <see cref="KeyCopySteps"/>):
/// a string's value and expiry, or a typed key's type, expiry and every element with its rendered value (a hash field's
/// value, a counter's total, a sorted-set member's score as 8 bytes, a list item's value in list order; a set member's
/// is empty). On a cluster node it is read by quorum, every element in pages,
/// and runs over the join; a typed key whose last element went reads as absent.
/// </summary>
internal sealed class KeySnapshotRead(byte[] key) : IElementReadOperation
{
    private readonly List<byte[]> _names = [];
    private readonly List<byte[]> _values = [];

    public byte[] Key => key;

    public IReadOnlyList<byte[]>? Names => null;

    public byte[]? After => null;

    public int Limit => 0;

    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool Found { get; private set; }

    /// <summary>The key's type when it is a typed key (a hash, a set, a counter); null for a plain string.</summary>
    public DataType? Type { get; private set; }

    /// <summary>A plain string's value.</summary>
    public byte[] Value { get; private set; } = [];

    /// <summary>The key's expiry (Unix ms; 0: none).</summary>
    public long ExpiresAtUnixMs { get; private set; }

    /// <summary>A typed key's element names, in name order.</summary>
    public IReadOnlyList<byte[]> ElementNames => _names;

    /// <summary>A typed key's element values, rendered as a client reads them, in the order of <see cref="ElementNames"/>.</summary>
    public IReadOnlyList<byte[]> ElementValues => _values;

    public void Execute(IStorageTransaction transaction)
    {
        _names.Clear();
        _values.Clear();
        Found = false;
        Type = null;
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            return;
        }

        ExpiresAtUnixMs = record.ExpiresAtUnixMs;
        if (!record.IsTypedHeader)
        {
            Value = record.Value;
            Found = true;
            return;
        }

        Type = TypedKeyRecord.TypeOf(record.Value);
        foreach (StoredElement element in TypedKey.AllElements(transaction, key))
        {
            _names.Add(element.Name);
            // A sorted set's member carries its score as the register's 8 bytes would (counter writes summed in).
            _values.Add(Type == DataType.SortedSet
                ? SortedSetOperations.SortedSetScore.Encode(SortedSetOperations.SortedSetScore.OfEncodedState(element.Value))
                : ElementValue.Render(ElementState.Decode(element.Value)));
        }

        Found = _names.Count > 0;
    }
}
