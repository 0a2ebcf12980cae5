using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;

namespace Dynamite.Core.Tests.Gossip;

/// <summary>Members for gossip tests: node i sits on rack i mod racks of dc1 and listens on 10.0.0.i:7400.</summary>
internal static class GossipTopology
{
    public static MemberRecord Member(int i, int racks = 3, MemberStatus status = MemberStatus.Up) =>
        new(new NodeDescriptor(new NodeId($"n{i:D3}"), "dc1", $"dc1-r{i % racks}"), $"10.0.{i / 256}.{i % 256}:7400", status, 0);

    public static List<MemberRecord> Members(int count, int racks = 3)
    {
        var members = new List<MemberRecord>(count);
        for (int i = 0; i < count; i++)
        {
            members.Add(Member(i, racks));
        }

        return members;
    }
}
