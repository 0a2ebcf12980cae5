using Dynamite.Core.Membership;

namespace Dynamite.Simulation;

/// <summary>
/// The stores a checker compares for a key after healing: each primary of the key (by the ring of the first live
/// member) that still runs or can run, that is, is not retired. Empty when no member is live.
/// </summary>
public static class LivePrimaries
{
    public static IReadOnlyList<(NodeId Id, SimulatedNode Node)> Of(IReadOnlyList<SimulatedNode> nodes, string key)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        SimulatedNode? ringHolder = nodes.FirstOrDefault(n => n.IsLiveMember);
        if (ringHolder is null)
        {
            return [];
        }

        var primaries = new List<(NodeId, SimulatedNode)>();
        foreach (NodeId primary in ringHolder.PrimariesOf(key))
        {
            if (nodes.FirstOrDefault(n => n.Id == primary && !n.IsRetired) is { } node)
            {
                primaries.Add((primary, node));
            }
        }

        return primaries;
    }
}
