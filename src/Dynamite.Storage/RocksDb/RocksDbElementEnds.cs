using System.Collections.Concurrent;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// Where keys' live elements begin and end, as the writer last read them: a list's head and tail. A pop deletes the
/// element at an end, and RocksDB keeps the delete as a tombstone until a compaction drops it, so a queue's next
/// read from its start would step over every tombstone left by the pops before it (LPOP slowing down as it goes). A
/// read from an end seeks to the name remembered here instead: no live element of the key sorts before its first
/// name (or after its last), so the result is the same and only the tombstones since the last read are stepped over.
/// <para>
/// Remembered only from reads on the writer thread, which also stages every write, so no read can remember a name a
/// concurrent write has already passed; a write of a name before the first (or after the last) forgets it when it is
/// staged, before it is committed. At most <see cref="MaxKeys"/> keys are remembered per end (then all are forgotten).
/// </para>
/// </summary>
internal sealed class RocksDbElementEnds
{
    private const int MaxKeys = 65_536;

    private readonly ConcurrentDictionary<byte[], byte[]> _first = new(ByteArrayComparer.Instance);
    private readonly ConcurrentDictionary<byte[], byte[]> _last = new(ByteArrayComparer.Instance);

    // Keys added since the last clear (forgotten ones not subtracted: a clear comes a little early, never late).
    private int _firstAdded;
    private int _lastAdded;

    /// <summary>The first live element name of <paramref name="key"/> when known; no live element sorts before it.</summary>
    public byte[]? FirstOf(ReadOnlySpan<byte> key) =>
        !_first.IsEmpty && _first.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out byte[]? name) ? name : null;

    /// <summary>The last live element name of <paramref name="key"/> when known; no live element sorts after it.</summary>
    public byte[]? LastOf(ReadOnlySpan<byte> key) =>
        !_last.IsEmpty && _last.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out byte[]? name) ? name : null;

    /// <summary>Remembers <paramref name="name"/> as the first live element of <paramref name="key"/>; writer thread only.</summary>
    public void RememberFirst(ReadOnlySpan<byte> key, byte[] name) => Remember(_first, ref _firstAdded, key, name);

    /// <summary>Remembers <paramref name="name"/> as the last live element of <paramref name="key"/>; writer thread only.</summary>
    public void RememberLast(ReadOnlySpan<byte> key, byte[] name) => Remember(_last, ref _lastAdded, key, name);

    /// <summary>A write of element <paramref name="name"/> is being staged: an end it passes is forgotten.</summary>
    public void OnWrite(ReadOnlySpan<byte> key, ReadOnlySpan<byte> name)
    {
        if (FirstOf(key) is { } first && name.SequenceCompareTo(first) < 0)
        {
            _first.GetAlternateLookup<ReadOnlySpan<byte>>().TryRemove(key, out _);
        }

        if (LastOf(key) is { } last && name.SequenceCompareTo(last) > 0)
        {
            _last.GetAlternateLookup<ReadOnlySpan<byte>>().TryRemove(key, out _);
        }
    }

    public void Clear()
    {
        _first.Clear();
        _last.Clear();
        _firstAdded = 0;
        _lastAdded = 0;
    }

    private static void Remember(ConcurrentDictionary<byte[], byte[]> ends, ref int added, ReadOnlySpan<byte> key, byte[] name)
    {
        ConcurrentDictionary<byte[], byte[]>.AlternateLookup<ReadOnlySpan<byte>> lookup = ends.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(key, out _))
        {
            lookup[key] = name;
            return;
        }

        if (++added > MaxKeys)
        {
            ends.Clear();
            added = 1;
        }

        lookup[key] = name;
    }
}
