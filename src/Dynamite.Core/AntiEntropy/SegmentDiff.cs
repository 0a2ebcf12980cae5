namespace Dynamite.Core.AntiEntropy;

/// <summary>
/// The keys of one differing Merkle segment that the two replicas disagree on: the last step of a Dynamo §4.7
/// exchange, after the trees have narrowed the difference down to segments. Each side lists its
/// (key, key digest) pairs; a key only one side holds, or held with different digests, is to be repaired: the
/// runtime reads both objects, merges them (<see cref="Versioning.VersionedObject.Merge"/>, so a tombstone
/// travels like a write) and writes the merge to both sides. Keys with equal digests hold equal objects and are
/// left alone. Pure: sorts copies of both lists by key (ordinal bytes) and walks them once, O(n log n).
/// </summary>
public sealed class SegmentDiff
{
    private SegmentDiff(List<byte[]> missingLocally, List<byte[]> missingRemotely, List<byte[]> different)
    {
        MissingLocally = missingLocally;
        MissingRemotely = missingRemotely;
        Different = different;
    }

    /// <summary>Keys the remote side holds and the local side does not, in key order.</summary>
    public IReadOnlyList<byte[]> MissingLocally { get; }

    /// <summary>Keys the local side holds and the remote side does not, in key order.</summary>
    public IReadOnlyList<byte[]> MissingRemotely { get; }

    /// <summary>Keys both sides hold with different digests (different versions), in key order.</summary>
    public IReadOnlyList<byte[]> Different { get; }

    public int Count => MissingLocally.Count + MissingRemotely.Count + Different.Count;

    public bool IsEmpty => Count == 0;

    /// <summary>Every key to repair (read both, merge, write both), in key order.</summary>
    public IReadOnlyList<byte[]> KeysToRepair
    {
        get
        {
            var keys = new List<byte[]>(Count);
            keys.AddRange(MissingLocally);
            keys.AddRange(MissingRemotely);
            keys.AddRange(Different);
            keys.Sort(CompareKeys);
            return keys;
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> when one side lists a key twice (its listing is broken).</summary>
    public static SegmentDiff Compute(IReadOnlyList<SegmentKey> local, IReadOnlyList<SegmentKey> remote)
    {
        SegmentKey[] mine = Sorted(local, nameof(local));
        SegmentKey[] theirs = Sorted(remote, nameof(remote));
        var missingLocally = new List<byte[]>();
        var missingRemotely = new List<byte[]>();
        var different = new List<byte[]>();
        int i = 0;
        int j = 0;
        while (i < mine.Length || j < theirs.Length)
        {
            int order = i == mine.Length ? 1 : j == theirs.Length ? -1 : CompareKeys(mine[i].Key, theirs[j].Key);
            if (order < 0)
            {
                missingRemotely.Add(mine[i++].Key);
            }
            else if (order > 0)
            {
                missingLocally.Add(theirs[j++].Key);
            }
            else
            {
                if (mine[i].Digest != theirs[j].Digest)
                {
                    different.Add(mine[i].Key);
                }

                i++;
                j++;
            }
        }

        return new SegmentDiff(missingLocally, missingRemotely, different);
    }

    private static SegmentKey[] Sorted(IReadOnlyList<SegmentKey> keys, string side)
    {
        var sorted = new SegmentKey[keys.Count];
        for (int i = 0; i < sorted.Length; i++)
        {
            sorted[i] = keys[i];
        }

        Array.Sort(sorted, static (a, b) => CompareKeys(a.Key, b.Key));
        for (int i = 1; i < sorted.Length; i++)
        {
            if (CompareKeys(sorted[i - 1].Key, sorted[i].Key) == 0)
            {
                throw new ArgumentException("a segment listing holds the same key twice", side);
            }
        }

        return sorted;
    }

    private static int CompareKeys(byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b);
}
