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
/// The reads of a typed key, run as an operation so that the header and its elements are read in one consistent state:
/// on a standalone node the engine runs it with no write interleaved; on a cluster node it declares what it reads
/// (<see cref="IElementReadOperation"/>) and runs over the quorum read's join. Writes nothing. An element's value is
/// rendered by <c>render</c> (a hash field's value); without one (a set member has none) a present element's value is
/// empty.
/// </summary>
internal sealed class ElementReadOperation(
    byte[] key,
    DataType type,
    ElementReadMode mode,
    Func<byte[], byte[]>? render,
    byte[][]? names = null,
    byte[]? after = null,
    int limit = 0) : ITypedKeyOperation, IElementReadOperation
{
    public int TouchedKeyCount => 1;

    public byte[] Key => key;

    public IReadOnlyList<byte[]>? Names => mode == ElementReadMode.Named ? names : null;

    public byte[]? After => mode == ElementReadMode.Page ? after : null;

    /// <summary>Page: its limit; Length and All read every element (a cluster's count is of the joined elements).</summary>
    public int Limit => mode == ElementReadMode.Page ? Math.Max(1, limit) : 0;

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
    public List<byte[]> ElementNames { get; } = [];

    /// <summary>Page: where the next page starts (null: the scan is complete).</summary>
    public byte[]? ResumeAfter { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        // A retried operation (a group commit that failed) starts over.
        Values.Clear();
        ElementNames.Clear();
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
        ElementNames.Add(element.Name);
        Values.Add(Render(element.Value));
    }

    private byte[] Render(byte[] encoded) => render is null ? [] : render(encoded);
}
