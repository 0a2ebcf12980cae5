using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.TypedKeys;

/// <summary>What an <see cref="ElementReadOperation"/> reads.</summary>
internal enum ElementReadMode
{
    /// <summary>HGET, HMGET, HEXISTS, HSTRLEN, SISMEMBER, SMISMEMBER: the named elements, one point read each.</summary>
    Named,

    /// <summary>HLEN, SCARD: the count kept in the header; no element is read.</summary>
    Length,

    /// <summary>HGETALL, HKEYS, HVALS, HRANDFIELD, SMEMBERS, SRANDMEMBER: every element, one range scan in name order.</summary>
    All,

    /// <summary>HSCAN, SSCAN: one page of elements after a name.</summary>
    Page,
}

/// <summary>
/// The reads of a typed key on a standalone node, run as an operation so that the header and its elements are read in
/// one consistent state (the engine runs an operation with no write interleaved). Writes nothing. An element's value
/// is rendered by <c>render</c> (a hash field's value); without one (a set member has none) a present element's value
/// is empty.
/// </summary>
internal sealed class ElementReadOperation(
    byte[] key,
    DataType type,
    ElementReadMode mode,
    Func<byte[], byte[]>? render,
    byte[][]? names = null,
    byte[]? after = null,
    int limit = 0) : ITypedKeyOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool WrongType { get; private set; }

    /// <summary>An error the command found in its arguments, answered only when the key exists (a scan's options).</summary>
    public string? Error { get; init; }

    /// <summary>True when the key holds the type.</summary>
    public bool Exists { get; private set; }

    /// <summary>Length's answer.</summary>
    public long Length { get; private set; }

    /// <summary>Named: the value of each named element, null when absent. All and Page: every element's value.</summary>
    public List<byte[]?> Values { get; } = [];

    /// <summary>All and Page: the names, in byte order, beside <see cref="Values"/>.</summary>
    public List<byte[]> Names { get; } = [];

    /// <summary>Page: where the next page starts (null: the scan is complete).</summary>
    public byte[]? ResumeAfter { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            return;
        }

        if (!record.IsTypedHeader || TypedKeyRecord.TypeOf(record.Value) != type)
        {
            WrongType = true;
            return;
        }

        Exists = true;
        switch (mode)
        {
            case ElementReadMode.Length:
                Length = TypedKeyRecord.CountOf(record.Value);
                break;
            case ElementReadMode.Named:
                foreach (byte[] name in names!)
                {
                    Values.Add(transaction.TryReadElement(key, name, out byte[]? encoded) ? Render(encoded) : null);
                }

                break;
            case ElementReadMode.All:
                foreach (StoredElement element in TypedKey.AllElements(transaction, key))
                {
                    Add(element);
                }

                break;
            case ElementReadMode.Page:
                ElementPage one = transaction.ScanElements(key, after, Math.Max(1, limit));
                foreach (StoredElement element in one.Elements)
                {
                    Add(element);
                }

                ResumeAfter = one.ResumeAfter;
                break;
        }
    }

    private void Add(StoredElement element)
    {
        Names.Add(element.Name);
        Values.Add(Render(element.Value));
    }

    private byte[] Render(byte[] encoded) => render is null ? [] : render(encoded);
}
