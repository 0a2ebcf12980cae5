using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;

namespace Dynamite.Benchmarks;

/// <summary>
/// Preference-list lookup, done by the coordinator for every request: a 3-node and a 16-node map, Q = 8
/// (256 partitions), N = 3, every node reachable. Each operation looks up the next partition.
/// </summary>
// Not sealed: BenchmarkDotNet emits a type deriving from each benchmark class.
public class RingBenchmarks
{
    private const int PartitionBits = 8;
    private const string Datacenter = "dc1";

    private static readonly Func<NodeId, bool> AllReachable = static _ => true;

    private PartitionMap _map3 = null!;
    private PartitionMap _map16 = null!;
    private int _partition;

    [GlobalSetup]
    public void Setup()
    {
        _map3 = PartitionClaim.Initial(Nodes(3, racks: 3), PartitionBits);
        _map16 = PartitionClaim.Initial(Nodes(16, racks: 4), PartitionBits);
    }

    [Benchmark]
    public PreferenceList Build3Nodes() => PreferenceListBuilder.Build(_map3, NextPartition(), Datacenter, 3, AllReachable);

    [Benchmark]
    public PreferenceList Build16Nodes() => PreferenceListBuilder.Build(_map16, NextPartition(), Datacenter, 3, AllReachable);

    [Benchmark]
    public ImmutableArray<NodeId> PrimariesOf16Nodes() => PreferenceListBuilder.PrimariesOf(_map16, NextPartition(), Datacenter, 3);

    private PartitionId NextPartition()
    {
        _partition = (_partition + 1) & ((1 << PartitionBits) - 1);
        return new PartitionId(_partition);
    }

    private static NodeDescriptor[] Nodes(int count, int racks)
    {
        var nodes = new NodeDescriptor[count];
        for (int i = 0; i < count; i++)
        {
            nodes[i] = new NodeDescriptor(new NodeId($"n{i + 1}"), Datacenter, $"rack{(i % racks) + 1}");
        }

        return nodes;
    }
}
