using Dynamite.Core.Membership;

namespace Dynamite.Core.Versioning;

/// <summary>
/// One (node, counter) pair of a version vector, with the wall-clock time of the node's last
/// increment. The timestamp plays no part in causality; pruning uses it to drop the oldest entries
/// first (Dynamo §4.4, Riak's vclock). Invariant: <see cref="Counter"/> &gt; 0.
/// </summary>
public readonly record struct VersionVectorEntry(NodeId Node, long Counter, long TimestampUnixMs)
{
    public override string ToString() => $"{Node}:{Counter}@{TimestampUnixMs}";
}
