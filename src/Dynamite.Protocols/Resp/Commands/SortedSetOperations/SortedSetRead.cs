using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>
/// The reads of one sorted set, run as an operation so that the header and its members are read in one consistent
/// state: the scores of named members (ZSCORE, ZMSCORE, ZRANK), the count (ZCARD), or every member in the set's order
/// (the range commands, which then select from it). On a cluster node it declares what it reads and runs over the
/// quorum read's join (<see cref="IElementReadOperation"/>). Writes nothing.
/// <para>
/// Every range read reads the whole set and sorts it, O(n log n): the engines keep a key's elements in name order
/// only, and a score order needs an index of its own (issue 16 keeps this open: range reads in O(log n + m)).
/// </para>
/// </summary>
internal sealed class SortedSetRead(byte[] key, ElementReadMode mode, byte[][]? names = null) : ITypedKeyOperation, IElementReadOperation
{
    public int TouchedKeyCount => 1;

    public byte[] Key => key;

    public IReadOnlyList<byte[]>? Names => mode == ElementReadMode.Named ? names : null;

    public byte[]? After => null;

    public int Limit => 0;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool WrongType { get; private set; }

    /// <summary>True when the key holds a sorted set.</summary>
    public bool Exists { get; private set; }

    /// <summary>Length's answer.</summary>
    public long Length { get; private set; }

    /// <summary>Named: each named member's score, null when absent.</summary>
    public List<double?> Scores { get; } = [];

    /// <summary>All: every member, by score then member.</summary>
    public List<ScoredMember> Sorted { get; } = [];

    public void Execute(IStorageTransaction transaction)
    {
        Scores.Clear();
        Sorted.Clear();
        Exists = false;
        WrongType = false;
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            return;
        }

        if (!record.IsTypedHeader || TypedKeyRecord.TypeOf(record.Value) != DataType.SortedSet)
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
                    Scores.Add(transaction.TryReadElement(key, name, out byte[]? encoded) ? SortedSetScore.OfEncodedState(encoded) : null);
                }

                break;
            default:
                ReadSorted(transaction, key, Sorted);
                break;
        }
    }

    /// <summary>Every member of <paramref name="key"/>, by score then member, into <paramref name="sorted"/>.</summary>
    public static void ReadSorted(IStorageTransaction transaction, byte[] key, List<ScoredMember> sorted)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        foreach (StoredElement element in TypedKey.AllElements(transaction, key))
        {
            sorted.Add(new ScoredMember(element.Name, SortedSetScore.OfEncodedState(element.Value)));
        }

        sorted.Sort(ScoredMember.Compare);
    }
}
