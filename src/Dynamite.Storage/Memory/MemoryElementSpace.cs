using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Storage.Memory;

/// <summary>
/// One of the memory engine's element keyspaces (its elements, or its index entries: elements with empty values). Per
/// partition, a concurrent dictionary from a key to its elements, an immutable sorted set ordered by name (a persistent
/// balanced tree: a change copies O(log n) nodes, and positions are O(log n) to reach), so one key's elements are one
/// ordered range and a reader takes a consistent snapshot of them without a lock. An operation's changes to one key's
/// elements are made in one builder and published as one new set. Reads take no lock; changes are made under the
/// engine's write lock.
/// </summary>
internal sealed class MemoryElementSpace : IElementReader
{
    private static readonly ImmutableSortedSet<StoredElement> NoElements = ImmutableSortedSet.Create<StoredElement>(ElementNames.Order);

    private readonly KeyPartitioner _partitioner;
    private readonly ConcurrentDictionary<byte[], ImmutableSortedSet<StoredElement>>[] _partitions;

    // Guarded by the engine's write lock.
    private readonly Dictionary<byte[], ImmutableSortedSet<StoredElement>.Builder> _changed = new(ByteArrayComparer.Instance);

    public MemoryElementSpace(KeyPartitioner partitioner)
    {
        _partitioner = partitioner;
        _partitions = new ConcurrentDictionary<byte[], ImmutableSortedSet<StoredElement>>[partitioner.PartitionCount];
        for (int i = 0; i < _partitions.Length; i++)
        {
            _partitions[i] = new ConcurrentDictionary<byte[], ImmutableSortedSet<StoredElement>>(ByteArrayComparer.Instance);
        }
    }

    public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value)
    {
        if (TryGet(key, out ImmutableSortedSet<StoredElement>? elements))
        {
            int index = FirstIndexFrom(elements, element, after: false);
            if (index < elements.Count && elements[index].Name.AsSpan().SequenceEqual(element))
            {
                value = elements[index].Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    /// <summary>The stored arrays themselves: they are never mutated, so nothing is copied.</summary>
    public bool ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into)
    {
        if (!TryGet(key, out ImmutableSortedSet<StoredElement>? elements))
        {
            return false;
        }

        int start = afterElement is null ? 0 : FirstIndexFrom(elements, afterElement, after: true);
        int end = (int)Math.Min(elements.Count, (long)start + limit);
        for (int i = start; i < end; i++)
        {
            into.Add(elements[i]);
        }

        return end < elements.Count;
    }

    /// <summary>The stored arrays themselves, as <see cref="ReadElements"/>: from the end of the sorted set.</summary>
    public bool ReadElementsBackward(ReadOnlySpan<byte> key, byte[]? beforeElement, int limit, List<StoredElement> into)
    {
        if (!TryGet(key, out ImmutableSortedSet<StoredElement>? elements))
        {
            return false;
        }

        int end = beforeElement is null ? elements.Count : FirstIndexFrom(elements, beforeElement, after: false);
        int first = (int)Math.Max(0, (long)end - limit);
        for (int i = end - 1; i >= first; i--)
        {
            into.Add(elements[i]);
        }

        return first > 0;
    }

    /// <summary>Removes every element of <paramref name="key"/>; the caller holds the engine's write lock.</summary>
    public void RemoveKey(ulong keyHash, byte[] key) => PartitionOf(keyHash).TryRemove(key, out _);

    /// <summary>Removes every element of every key; the caller holds the engine's write lock.</summary>
    public void Clear()
    {
        foreach (ConcurrentDictionary<byte[], ImmutableSortedSet<StoredElement>> partition in _partitions)
        {
            partition.Clear();
        }
    }

    /// <summary>
    /// Applies one operation's changes in order, each key's in one builder, then publishes each changed key's new set
    /// (or removes the key when it has no elements left); the caller holds the engine's write lock.
    /// </summary>
    public void Apply(ReadOnlySpan<StagedElementChange> changes)
    {
        try
        {
            foreach (StagedElementChange change in changes)
            {
                if (!_changed.TryGetValue(change.Key, out ImmutableSortedSet<StoredElement>.Builder? builder))
                {
                    if (!PartitionOf(change.KeyHash).TryGetValue(change.Key, out ImmutableSortedSet<StoredElement>? stored))
                    {
                        if (change.Value is null)
                        {
                            // A delete of what the key does not have.
                            continue;
                        }

                        stored = NoElements;
                    }

                    builder = stored.ToBuilder();
                    _changed[change.Key] = builder;
                }

                if (change.Element is not { } element)
                {
                    builder.Clear();
                    continue;
                }

                // The set orders by name alone: the old element goes, then the new one comes in.
                builder.Remove(new StoredElement(element, []));
                if (change.Value is { } value)
                {
                    builder.Add(new StoredElement(element, value));
                }
            }

            foreach ((byte[] key, ImmutableSortedSet<StoredElement>.Builder builder) in _changed)
            {
                ConcurrentDictionary<byte[], ImmutableSortedSet<StoredElement>> partition = PartitionOf(KeyPartitioner.HashKey(key));
                if (builder.Count == 0)
                {
                    partition.TryRemove(key, out _);
                }
                else
                {
                    partition[key] = builder.ToImmutable();
                }
            }
        }
        finally
        {
            _changed.Clear();
        }
    }

    /// <summary>
    /// The first position in <paramref name="elements"/> whose name is at or (<paramref name="after"/>) after
    /// <paramref name="name"/>. A binary search over positions (each an O(log n) walk), comparing spans: the set's own
    /// search would need a probe element, and so a copy of the name.
    /// </summary>
    private static int FirstIndexFrom(ImmutableSortedSet<StoredElement> elements, ReadOnlySpan<byte> name, bool after)
    {
        int low = 0;
        int high = elements.Count;
        while (low < high)
        {
            int middle = low + ((high - low) >> 1);
            int order = ElementNames.Compare(elements[middle].Name, name);
            if (order < 0 || (after && order == 0))
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private bool TryGet(ReadOnlySpan<byte> key, [NotNullWhen(true)] out ImmutableSortedSet<StoredElement>? elements) =>
        PartitionOf(KeyPartitioner.HashKey(key)).GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out elements);

    private ConcurrentDictionary<byte[], ImmutableSortedSet<StoredElement>> PartitionOf(ulong keyHash) =>
        _partitions[_partitioner.PartitionOfHash(keyHash).Value];
}
