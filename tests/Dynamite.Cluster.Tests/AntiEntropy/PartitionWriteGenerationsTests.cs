using System.Text;
using Xunit;
using Dynamite.Cluster.AntiEntropy;
using Dynamite.Core.Partitioning;

namespace Dynamite.Cluster.Tests.AntiEntropy;

public sealed class PartitionWriteGenerationsTests
{
    private static readonly KeyPartitioner Partitioner = new(4);

    [Fact]
    public void MayHoldTombstones_BeforeAnyPass_IsTrueForEveryPartition()
    {
        var generations = new PartitionWriteGenerations(Partitioner);

        for (int p = 0; p < Partitioner.PartitionCount; p++)
        {
            Assert.True(generations.MayHoldTombstones(new PartitionId(p)));
        }
    }

    [Fact]
    public void MarkClean_NoWriteSince_SkipsThePartitionUntilItIsWrittenAgain()
    {
        var generations = new PartitionWriteGenerations(Partitioner);
        byte[] key = Encoding.UTF8.GetBytes("k");
        PartitionId partition = Partitioner.PartitionOf(key);

        generations.MarkClean(partition, generations.Current(partition));
        Assert.False(generations.MayHoldTombstones(partition));

        generations.OnWritten(key, null, [1]);
        Assert.True(generations.MayHoldTombstones(partition));
    }

    [Fact]
    public void MarkClean_WriteDuringThePass_LeavesThePartitionUnknown()
    {
        var generations = new PartitionWriteGenerations(Partitioner);
        byte[] key = Encoding.UTF8.GetBytes("k");
        PartitionId partition = Partitioner.PartitionOf(key);

        long atStart = generations.Current(partition);
        generations.OnWritten(key, null, [1]); // after the scan passed this key, say
        generations.MarkClean(partition, atStart);

        Assert.True(generations.MayHoldTombstones(partition));
    }

    [Fact]
    public void OnRemoved_DoesNotMakeACleanPartitionUnknown()
    {
        var generations = new PartitionWriteGenerations(Partitioner);
        byte[] key = Encoding.UTF8.GetBytes("k");
        PartitionId partition = Partitioner.PartitionOf(key);
        generations.MarkClean(partition, generations.Current(partition));

        generations.OnRemoved(key, [1]);

        Assert.False(generations.MayHoldTombstones(partition));
    }
}
