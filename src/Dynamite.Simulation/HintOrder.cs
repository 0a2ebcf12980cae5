using Dynamite.Core.Membership;

namespace Dynamite.Simulation;

/// <summary>Orders hints by node, then key (ordinal): a replay round must visit them in the same order every run.</summary>
internal sealed class HintOrder : IComparer<(NodeId Owner, string Key)>
{
    public static HintOrder Instance { get; } = new();

    public int Compare((NodeId Owner, string Key) x, (NodeId Owner, string Key) y)
    {
        int order = x.Owner.CompareTo(y.Owner);
        return order != 0 ? order : string.CompareOrdinal(x.Key, y.Key);
    }
}
