using System.Text;
using Dynamite.Core.Partitioning;
using Xunit;

namespace Dynamite.Core.Tests;

public sealed class KeyPartitionerTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(14)]
    public void PartitionOf_ManyKeys_StaysInRangeAndInsideItsHashRange(int bits)
    {
        var partitioner = new KeyPartitioner(bits);
        for (int i = 0; i < 5000; i++)
        {
            byte[] key = Encoding.ASCII.GetBytes("key:" + i);
            ulong hash = KeyPartitioner.HashKey(key);
            PartitionId partition = partitioner.PartitionOf(key);
            Assert.InRange(partition.Value, 0, partitioner.PartitionCount - 1);
            Assert.InRange(hash, partitioner.FirstHashOf(partition), partitioner.LastHashOf(partition));
        }
    }

    [Fact]
    public void PartitionOf_100kKeys_SpreadsEvenlyOver256Partitions()
    {
        var partitioner = new KeyPartitioner(8);
        int[] counts = new int[partitioner.PartitionCount];
        for (int i = 0; i < 100_000; i++)
        {
            counts[partitioner.PartitionOf(Encoding.ASCII.GetBytes("user:" + i)).Value]++;
        }

        // 390 keys expected per partition; a fair hash stays well within +-25%.
        Assert.InRange(counts.Min(), 290, 390);
        Assert.InRange(counts.Max(), 390, 490);
    }

    [Fact]
    public void HashRanges_AdjacentPartitions_TileTheHashSpace()
    {
        var partitioner = new KeyPartitioner(4);
        Assert.Equal(0UL, partitioner.FirstHashOf(new PartitionId(0)));
        Assert.Equal(ulong.MaxValue, partitioner.LastHashOf(new PartitionId(15)));
        for (int p = 0; p < 15; p++)
        {
            Assert.Equal(partitioner.LastHashOf(new PartitionId(p)) + 1, partitioner.FirstHashOf(new PartitionId(p + 1)));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    public void Constructor_OutOfRangeBits_Throws(int bits)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeyPartitioner(bits));
    }
}
