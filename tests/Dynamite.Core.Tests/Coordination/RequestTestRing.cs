using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;

namespace Dynamite.Core.Tests.Coordination;

/// <summary>Preference lists over a small ring (one rack per node), with some nodes unreachable.</summary>
internal static class RequestTestRing
{
    public static PreferenceList List(int nodes, params string[] down)
    {
        var members = Enumerable.Range(1, nodes).Select(i => new NodeDescriptor(new NodeId($"n{i}"), "dc1", $"rack{i}")).ToList();
        PartitionMap map = PartitionClaim.Initial(members, 4);
        var unreachable = down.Select(d => new NodeId(d)).ToHashSet();
        return PreferenceListBuilder.Build(map, new PartitionId(0), "dc1", 3, node => !unreachable.Contains(node));
    }
}
