using Dynamite.Core.Membership;

namespace Dynamite.Core.Versioning;

/// <summary>
/// One event: the <paramref name="Counter"/>-th write coordinated by <paramref name="Node"/>. Each
/// sibling carries the dot of the write that created it, which is what lets a dotted version vector
/// tell a superseded sibling from a concurrent one (Preguiça et al., "Dotted Version Vectors",
/// 2012; Riak's riak_dt_vclock dots). Ordered by node (ordinal), then counter.
/// </summary>
public readonly record struct Dot(NodeId Node, long Counter) : IComparable<Dot>
{
    public static bool operator <(Dot left, Dot right) => left.CompareTo(right) < 0;

    public static bool operator <=(Dot left, Dot right) => left.CompareTo(right) <= 0;

    public static bool operator >(Dot left, Dot right) => left.CompareTo(right) > 0;

    public static bool operator >=(Dot left, Dot right) => left.CompareTo(right) >= 0;

    public int CompareTo(Dot other)
    {
        int byNode = Node.CompareTo(other.Node);
        return byNode != 0 ? byNode : Counter.CompareTo(other.Counter);
    }

    public override string ToString() => $"{Node}:{Counter}";
}
