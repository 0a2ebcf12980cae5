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
}
