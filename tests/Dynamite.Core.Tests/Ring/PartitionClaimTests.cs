using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;
using Xunit;

namespace Dynamite.Core.Tests.Ring;

public sealed class PartitionClaimTests
{
    private const int Q = 8;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void Initial_3To16Nodes_IsBalanced(int racks)
    {
        for (int count = 3; count <= 16; count++)
        {
            PartitionMap map = PartitionClaim.Initial(TestTopology.Nodes(count, racks), Q);
            (int min, int max) = MinMax(map);
            Assert.True(min > 0 && max <= 1.1 * min, $"{count} nodes, {racks} racks: min {min}, max {max}");
            if (map.PartitionCount % count == 0)
            {
                Assert.Equal(min, max);
            }
        }
    }

    [Fact]
    public void Initial_SameNodesInAnotherOrder_SameMap()
    {
        List<NodeDescriptor> nodes = TestTopology.Nodes(11, 3);
        PartitionMap first = PartitionClaim.Initial(nodes, Q);
        var shuffled = new List<NodeDescriptor>(nodes);
        new Random(42).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(shuffled));
        PartitionMap second = PartitionClaim.Initial(shuffled, Q);
        Assert.True(first.HasSameLayout(second));
        Assert.Equal(0, PartitionClaim.CountMoves(first, second));
    }

    [Theory]
    [InlineData(6, 3)]
    [InlineData(8, 4)]
    [InlineData(9, 3)]
    [InlineData(10, 2)]
    [InlineData(12, 3)]
    [InlineData(15, 5)]
    public void Initial_EqualRacks_ConsecutivePartitionsOnDistinctRacks(int count, int racks)
    {
        PartitionMap map = PartitionClaim.Initial(TestTopology.Nodes(count, racks), Q);
        int sameRack = 0;
        for (int p = 0; p < map.PartitionCount; p++)
        {
            string rack = map.GetMember(map.OwnerOf(new PartitionId(p))).Rack;
            string next = map.GetMember(map.OwnerOf(new PartitionId((p + 1) % map.PartitionCount))).Rack;
            sameRack += rack == next ? 1 : 0;
        }

        // Only the wrap from the last partial cycle back to partition 0 may break the interleaving.
        Assert.True(sameRack <= 1, $"{sameRack} consecutive same-rack pairs");
    }

    [Fact]
    public void Initial_DuplicateNode_Throws()
    {
        List<NodeDescriptor> nodes = TestTopology.Nodes(3, 1);
        nodes.Add(nodes[0]);
        Assert.Throws<ArgumentException>(() => PartitionClaim.Initial(nodes, Q));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Rebalance_FourthNodeJoinsThree_MovesCloseToMinimumAndStaysBalanced(int racks)
    {
        List<NodeDescriptor> nodes = TestTopology.Nodes(4, racks);
        PartitionMap before = PartitionClaim.Initial(nodes[..3], Q);
        PartitionMap after = PartitionClaim.Rebalance(before, nodes);

        int ideal = after.CountOwnedBy(nodes[3].Id);
        int moves = PartitionClaim.CountMoves(before, after);
        (int min, int max) = MinMax(after);
        Assert.Equal(64, ideal);
        Assert.True(moves <= 1.1 * ideal, $"{moves} moves for an ideal of {ideal}");
        Assert.True(max - min <= 1);
        Assert.True(PartitionClaim.Rebalance(before, nodes).HasSameLayout(after));
    }

    [Theory]
    [InlineData(5, 0)]
    [InlineData(5, 4)]
    [InlineData(7, 3)]
    [InlineData(16, 9)]
    public void Rebalance_NodeLeaves_ReassignsItsPartitionsPlusAFew(int count, int leaving)
    {
        List<NodeDescriptor> nodes = TestTopology.Nodes(count, 3);
        PartitionMap before = PartitionClaim.Initial(nodes, Q);
        NodeId departed = nodes[leaving].Id;
        nodes.RemoveAt(leaving);
        PartitionMap after = PartitionClaim.Rebalance(before, nodes);

        int orphaned = before.CountOwnedBy(departed);
        int moves = PartitionClaim.CountMoves(before, after);
        (int min, int max) = MinMax(after);
        Assert.False(after.IsMember(departed));
        Assert.Equal(0, after.CountOwnedBy(departed));
        Assert.True(max - min <= 1);
        Assert.InRange(moves, orphaned, orphaned + 3);
    }

    [Fact]
    public void Rebalance_SameMembers_MovesNothing()
    {
        List<NodeDescriptor> nodes = TestTopology.Nodes(7, 2);
        PartitionMap before = PartitionClaim.Initial(nodes, Q);
        Assert.Equal(0, PartitionClaim.CountMoves(before, PartitionClaim.Rebalance(before, nodes)));
    }

    [Fact]
    public void Rebalance_GrowFrom3To16OneAtATime_StaysBalancedWithNearMinimalMoves()
    {
        List<NodeDescriptor> all = TestTopology.Nodes(16, 4);
        PartitionMap map = PartitionClaim.Initial(all[..3], Q);
        for (int count = 4; count <= 16; count++)
        {
            PartitionMap next = PartitionClaim.Rebalance(map, all[..count]);
            int ideal = next.CountOwnedBy(all[count - 1].Id);
            Assert.True(PartitionClaim.CountMoves(map, next) <= Math.Ceiling(1.1 * ideal));
            (int min, int max) = MinMax(next);
            Assert.True(max - min <= 1);
            map = next;
        }
    }

    [Fact]
    public void CountMoves_DifferentPartitionCounts_Throws()
    {
        List<NodeDescriptor> nodes = TestTopology.Nodes(3, 1);
        Assert.Throws<ArgumentException>(() => PartitionClaim.CountMoves(PartitionClaim.Initial(nodes, 4), PartitionClaim.Initial(nodes, 5)));
    }

    private static (int Min, int Max) MinMax(PartitionMap map)
    {
        int min = int.MaxValue;
        int max = 0;
        foreach (NodeDescriptor member in map.Members)
        {
            int owned = map.CountOwnedBy(member.Id);
            min = Math.Min(min, owned);
            max = Math.Max(max, owned);
        }

        return (min, max);
    }
}
