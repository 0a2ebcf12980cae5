using Dynamite.Core.Membership;

namespace Dynamite.Core.Tests.Ring;

/// <summary>Builds node lists for ring tests: node i of a datacenter sits on rack i mod racks.</summary>
internal static class TestTopology
{
    public static List<NodeDescriptor> Nodes(int count, int racks, string datacenter = "dc1", string prefix = "n")
    {
        var nodes = new List<NodeDescriptor>(count);
        for (int i = 0; i < count; i++)
        {
            nodes.Add(new NodeDescriptor(new NodeId($"{prefix}{i:D2}"), datacenter, $"{datacenter}-r{i % racks}"));
        }

        return nodes;
    }
}
