using System.Collections.Immutable;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;
using Xunit;

namespace Dynamite.Core.Tests.Ring;

public sealed class PreferenceListBuilderTests
{
    private const int Q = 8;
    private const int N = 3;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void Build_EveryPartition3To16Nodes_NoNodeTwiceAndDistinctRacksWhenPossible(int racks)
    {
        for (int count = 3; count <= 16; count++)
        {
            PartitionMap map = PartitionClaim.Initial(TestTopology.Nodes(count, racks), Q);
            for (int p = 0; p < map.PartitionCount; p++)
            {
                var partition = new PartitionId(p);

                // A different, deterministic third of the nodes is down for each partition.
                bool IsReachable(NodeId node) => (int.Parse(node.Value.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture) + p) % 3 != 0;
                PreferenceList list = PreferenceListBuilder.Build(map, partition, "dc1", N, IsReachable);

                Assert.Equal(N, list.Primaries.Length);
                Assert.Equal(N, list.Primaries.Distinct().Count());
                AssertDistinct(list.Entries.Select(e => e.Node));
                if (racks >= N)
                {
                    AssertDistinct(list.Primaries.Select(node => map.GetMember(node).Rack));
                }

                foreach (PreferenceListEntry entry in list.Entries)
                {
                    Assert.True(IsReachable(entry.Node));
                    Assert.Equal(entry.IsPrimary, list.Primaries.Contains(entry.Node));
                    Assert.Equal(entry.IsPrimary, entry.HintFor is null);
                    if (entry.HintFor is { } hinted)
                    {
                        Assert.Contains(hinted, list.UnreachablePrimaries);
                    }
                }

                Assert.All(list.UnreachablePrimaries, node => Assert.False(IsReachable(node)));
            }
        }
    }

    [Fact]
    public void Build_AllReachable_EntriesAreThePrimariesInOrder()
    {
        PartitionMap map = PartitionClaim.Initial(TestTopology.Nodes(6, 3), Q);
        for (int p = 0; p < map.PartitionCount; p++)
        {
            PreferenceList list = PreferenceListBuilder.Build(map, new PartitionId(p), "dc1", N, static _ => true);
            Assert.Equal(list.Primaries, list.Entries.Select(e => e.Node));
            Assert.All(list.Entries, e => Assert.True(e.IsPrimary));
            Assert.Empty(list.UnreachablePrimaries);
            Assert.Equal(map.OwnerOf(new PartitionId(p)), list.Primaries[0]);
        }
    }

    [Fact]
    public void Build_TwoPrimariesDown_FallbacksCarryHints()
    {
        PartitionMap map = PartitionClaim.Initial(TestTopology.Nodes(6, 3), Q);
        var partition = new PartitionId(17);
        ImmutableArray<NodeId> primaries = PreferenceListBuilder.PrimariesOf(map, partition, "dc1", N);
        var down = new HashSet<NodeId> { primaries[0], primaries[2] };

        PreferenceList list = PreferenceListBuilder.Build(map, partition, "dc1", N, node => !down.Contains(node));

        Assert.Equal([primaries[0], primaries[2]], list.UnreachablePrimaries.ToArray());
        Assert.Equal(3, list.Entries.Length);
        Assert.Equal(new PreferenceListEntry(primaries[1], true, null), list.Entries[0]);
        Assert.Equal(primaries[0], list.Entries[1].HintFor);
        Assert.Equal(primaries[2], list.Entries[2].HintFor);
        Assert.False(list.Entries[1].IsPrimary);
        Assert.DoesNotContain(list.Entries[1].Node, primaries);
        Assert.DoesNotContain(list.Entries[2].Node, primaries);
        Assert.Equal(1, list.ReachablePrimaryCount);
    }

    [Fact]
    public void Build_NoSpareNode_UnreachablePrimaryHasNoFallback()
    {
        PartitionMap map = PartitionClaim.Initial(TestTopology.Nodes(3, 3), Q);
        var partition = new PartitionId(0);
        NodeId down = PreferenceListBuilder.PrimariesOf(map, partition, "dc1", N)[1];
        PreferenceList list = PreferenceListBuilder.Build(map, partition, "dc1", N, node => node != down);
        Assert.Equal(2, list.Entries.Length);
        Assert.All(list.Entries, e => Assert.True(e.IsPrimary));
        Assert.Equal([down], list.UnreachablePrimaries.ToArray());
    }

    [Fact]
    public void Build_DatacenterSmallerThanN_ReturnsWhatExists()
    {
        PartitionMap map = PartitionClaim.Initial(TestTopology.Nodes(2, 1), Q);
        PreferenceList list = PreferenceListBuilder.Build(map, new PartitionId(5), "dc1", N, static _ => true);
        Assert.Equal(2, list.Entries.Length);
        Assert.Empty(PreferenceListBuilder.PrimariesOf(map, new PartitionId(5), "nowhere", N));
    }

    [Fact]
    public void Build_SameInput_SameList()
    {
        PartitionMap map = PartitionClaim.Initial(TestTopology.Nodes(9, 3), Q);
        PartitionMap again = PartitionClaim.Initial(TestTopology.Nodes(9, 3), Q);
        for (int p = 0; p < map.PartitionCount; p++)
        {
            bool IsReachable(NodeId node) => node.Value != "n04";
            Assert.Equal(
                PreferenceListBuilder.Build(map, new PartitionId(p), "dc1", N, IsReachable).Entries.ToArray(),
                PreferenceListBuilder.Build(again, new PartitionId(p), "dc1", N, IsReachable).Entries.ToArray());
        }
    }

    [Fact]
    public void Build_TwoDatacenters_EachFindsItsOwnReplicasOnDistinctRacks()
    {
        List<NodeDescriptor> nodes = TestTopology.Nodes(6, 3, "east", "e");
        nodes.AddRange(TestTopology.Nodes(4, 2, "west", "w"));
        PartitionMap map = PartitionClaim.Initial(nodes, Q);
        for (int p = 0; p < map.PartitionCount; p++)
        {
            var partition = new PartitionId(p);
            ImmutableArray<NodeId> east = PreferenceListBuilder.PrimariesOf(map, partition, "east", N);
            ImmutableArray<NodeId> west = PreferenceListBuilder.PrimariesOf(map, partition, "west", N);

            Assert.Equal(N, east.Length);
            Assert.Equal(N, west.Length);
            Assert.All(east, node => Assert.Equal("east", map.GetMember(node).Datacenter));
            Assert.All(west, node => Assert.Equal("west", map.GetMember(node).Datacenter));
            AssertDistinct(east);
            AssertDistinct(west);
            AssertDistinct(east.Select(node => map.GetMember(node).Rack));

            // West has two racks for three replicas: the first two primaries still differ.
            Assert.NotEqual(map.GetMember(west[0]).Rack, map.GetMember(west[1]).Rack);

            PreferenceList westDown = PreferenceListBuilder.Build(map, partition, "west", N, node => node != west[0]);
            Assert.Equal(3, westDown.Entries.Length);
            Assert.All(westDown.Entries, e => Assert.Equal("west", map.GetMember(e.Node).Datacenter));
            Assert.Equal(west[0], westDown.Entries[2].HintFor);
        }
    }

    private static void AssertDistinct<T>(IEnumerable<T> items)
    {
        var seen = new HashSet<T>();
        foreach (T item in items)
        {
            Assert.True(seen.Add(item), $"{item} appears twice");
        }
    }
}
