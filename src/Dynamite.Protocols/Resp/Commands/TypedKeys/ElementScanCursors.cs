namespace Dynamite.Protocols.Resp.Commands.TypedKeys;

/// <summary>
/// HSCAN's and SSCAN's cursors. A scan of a typed key resumes after the last element name it returned (a resumable
/// position: elements added or removed meanwhile never make it skip or repeat one that stayed), but a RESP cursor is a
/// number, so the server hands out numbers and remembers the position behind each: the most recent <see cref="Capacity"/>, shared by every
/// connection (a cursor may be continued on another connection, as in Redis). An evicted or unknown cursor is an error
/// rather than a silent restart. Thread-safe.
/// </summary>
internal sealed class ElementScanCursors
{
    public const int Capacity = 4096;

    private readonly Dictionary<ulong, (byte[] Key, byte[] After)> _positions = [];
    private readonly Queue<ulong> _order = new();
    private readonly Lock _lock = new();
    private ulong _next;

    /// <summary>A new cursor number for continuing the scan of <paramref name="key"/> after <paramref name="after"/>.</summary>
    public ulong Issue(byte[] key, byte[] after)
    {
        lock (_lock)
        {
            ulong cursor = ++_next;
            _positions[cursor] = (key, after);
            _order.Enqueue(cursor);
            while (_order.Count > Capacity)
            {
                _positions.Remove(_order.Dequeue());
            }

            return cursor;
        }
    }

    /// <summary>The position behind <paramref name="cursor"/> for <paramref name="key"/>; false when it is unknown or names another key.</summary>
    public bool TryResume(ulong cursor, ReadOnlySpan<byte> key, out byte[] after)
    {
        lock (_lock)
        {
            if (_positions.TryGetValue(cursor, out (byte[] Key, byte[] After) position) && key.SequenceEqual(position.Key))
            {
                after = position.After;
                return true;
            }
        }

        after = [];
        return false;
    }
}
