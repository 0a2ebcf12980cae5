using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.ListOperations;

/// <summary>
/// The reads of one list (LRANGE, LINDEX, LPOS, LLEN), as one consistent read of the key: its length from the
/// header, a window of items (LRANGE, LINDEX: read from the nearer end, one page from the head or one backward page
/// from the tail, O(window + its distance from that end)), or every item in order (LPOS). On a cluster, a quorum read
/// of the joined replicas. Writes nothing.
/// </summary>
internal sealed class ListRead(byte[] key, bool lengthOnly) : ITypedKeyOperation, IElementReadOperation
{
    private bool _windowed;
    private long _start;
    private long _stop;

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

    /// <summary>Every item in order (not for a length read); for a window, only the window's items.</summary>
    public List<ListItem> Items { get; } = [];

    /// <summary>LRANGE's window of items <paramref name="start"/> to <paramref name="stop"/> (negative: from the end), as Redis clamps them.</summary>
    public static ListRead Window(byte[] key, long start, long stop) => new(key, lengthOnly: false) { _windowed = true, _start = start, _stop = stop };

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
        else if (_windowed)
        {
            Length = TypedKeyRecord.CountOf(record.Value);
            ReadWindow(transaction, Length);
        }
        else
        {
            ListItem.ReadAll(transaction, key, Items);
            Length = Items.Count;
        }

        // On a cluster the header a list's last removal left stays (with its context): that list reads as absent.
        Exists = Length > 0;
    }

    private void ReadWindow(IStorageTransaction transaction, long length)
    {
        long first = Math.Max(_start < 0 ? length + _start : _start, 0);
        long last = Math.Min(_stop < 0 ? length + _stop : _stop, length - 1);
        if (first > last || first >= length)
        {
            return;
        }

        int wanted = (int)Math.Min(last - first + 1, int.MaxValue);
        if (first <= length - 1 - last)
        {
            ListItem.ReadFirst(transaction, key, (int)Math.Min(last + 1, int.MaxValue), Items);
            Items.RemoveRange(0, (int)Math.Min(first, Items.Count));
        }
        else
        {
            ListItem.ReadLast(transaction, key, (int)Math.Min(length - first, int.MaxValue), Items);
        }

        if (Items.Count > wanted)
        {
            Items.RemoveRange(wanted, Items.Count - wanted);
        }
    }
}
