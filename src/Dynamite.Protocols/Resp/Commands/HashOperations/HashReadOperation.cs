using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.HashOperations;

/// <summary>What a <see cref="HashReadOperation"/> reads.</summary>
internal enum HashReadMode
{
    /// <summary>HGET, HMGET, HEXISTS, HSTRLEN: the named fields, one element read each.</summary>
    Fields,

    /// <summary>HLEN: the count kept in the header; no element is read.</summary>
    Length,

    /// <summary>HGETALL, HKEYS, HVALS, HRANDFIELD: every field, one range scan in field-name order.</summary>
    All,

    /// <summary>HSCAN: one page of fields after a name.</summary>
    Page,
}

/// <summary>
/// The hash reads on a standalone node, run as an operation so that the header and its elements are read in one
/// consistent state (the engine runs an operation with no write interleaved). Writes nothing.
/// </summary>
internal sealed class HashReadOperation(byte[] key, HashReadMode mode, byte[][]? fields = null, byte[]? after = null, int limit = 0) : IHashOperation
{
    private const int ScanPageSize = 1024;

    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool WrongType { get; private set; }

    /// <summary>An error the command found in its arguments, answered only when the key exists (HSCAN's options).</summary>
    public string? Error { get; init; }

    /// <summary>True when the key holds a hash.</summary>
    public bool Exists { get; private set; }

    /// <summary>HLEN's answer.</summary>
    public long Length { get; private set; }

    /// <summary>Fields: the value of each named field, null when absent. All and Page: every field's value.</summary>
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

        if (!record.IsTypedHeader || TypedKeyRecord.TypeOf(record.Value) != DataType.Hash)
        {
            WrongType = true;
            return;
        }

        Exists = true;
        switch (mode)
        {
            case HashReadMode.Length:
                Length = TypedKeyRecord.CountOf(record.Value);
                break;
            case HashReadMode.Fields:
                foreach (byte[] field in fields!)
                {
                    ElementState? state = HashKey.ReadField(transaction, key, field);
                    Values.Add(state is null ? null : HashKey.Render(state));
                }

                break;
            case HashReadMode.All:
                byte[]? from = null;
                do
                {
                    ElementPage page = transaction.ScanElements(key, from, ScanPageSize);
                    Add(page);
                    from = page.ResumeAfter;
                }
                while (from is not null);
                break;
            case HashReadMode.Page:
                ElementPage one = transaction.ScanElements(key, after, Math.Max(1, limit));
                Add(one);
                ResumeAfter = one.ResumeAfter;
                break;
        }
    }

    private void Add(ElementPage page)
    {
        foreach (StoredElement element in page.Elements)
        {
            Names.Add(element.Name);
            Values.Add(HashKey.Render(ElementState.Decode(element.Value)));
        }
    }
}
