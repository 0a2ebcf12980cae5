using Dynamite.Core.KeyValue;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// A typed key's read as a cluster runs it (docs/DATA-TYPES.md, "replica read"): it says which elements it reads, the
/// store reads them from R primaries and joins their answers (<see cref="TypedReadJoin"/>), and <see
/// cref="IStorageOperation.Execute"/> then runs, unchanged from a single node, over a read-only view of the join
/// (<see cref="JoinedKeyView"/>). On a single node the engine runs it as any operation.
/// </summary>
public interface IElementReadOperation : IStorageOperation
{
    /// <summary>The one key the read looks at.</summary>
    byte[] Key { get; }

    /// <summary>The elements Execute reads by name (HGET, SMISMEMBER); null when it reads a range of them.</summary>
    IReadOnlyList<byte[]>? Names { get; }

    /// <summary>A range read's start: it reads the names after this one (null: from the first).</summary>
    byte[]? After { get; }

    /// <summary>A range read's most elements (HSCAN's COUNT); 0 when it reads every element (HGETALL, SCARD).</summary>
    int Limit { get; }

    /// <summary>
    /// For a sorted set's range read that one end of its score order answers (ZREVRANGE 0 9, a BYSCORE range with a
    /// LIMIT): the index window (<see cref="ElementSelection.IndexWindow"/>) whose members, read by name from the
    /// primaries and joined, hold every member the operation selects while the replicas agree. The operation then runs
    /// over the join of those members alone. Null (the default): the elements are read as the members above say.
    /// </summary>
    ElementSelection? IndexWindow => null;
}

/// <summary>
/// A read of every element of several typed keys as a cluster runs it (SINTER, SUNION, SDIFF, SINTERCARD): the store
/// reads each key whole by quorum, in pages, and runs the operation over a read-only view of the joins
/// (<see cref="JoinedKeysView"/>). Not atomic across the keys: each key is read on its own.
/// </summary>
public interface IMultiKeyElementReadOperation : IStorageOperation
{
    /// <summary>The keys the operation reads (a key named twice is read once).</summary>
    IReadOnlyList<byte[]> Keys { get; }
}
