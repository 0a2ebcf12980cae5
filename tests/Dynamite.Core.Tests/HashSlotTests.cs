using System.Text;
using Dynamite.Core.Partitioning;
using Xunit;

namespace Dynamite.Core.Tests;

/// <summary>
/// Redis Cluster's key-to-slot mapping, pinned by what redis-server 7.0.15 answers to CLUSTER KEYSLOT (measured against
/// a cluster-enabled redis-server), and the slot's place in a key's hash: the partition of a key is its slot range.
/// </summary>
public sealed class HashSlotTests
{
    [Theory]
    [InlineData("123456789", 12739)] // the CRC16-XMODEM check value 0x31C3, modulo 16,384
    [InlineData("foo", 12182)]
    [InlineData("bar", 5061)]
    [InlineData("hello", 866)]
    [InlineData("somekey", 11058)]
    [InlineData("{foo}bar", 12182)]
    [InlineData("foo{}{bar}", 8363)]
    [InlineData("foo{{bar}}zap", 4015)]
    [InlineData("foo{bar}{zap}", 5061)]
    [InlineData("{}", 15257)]
    [InlineData("{a", 10276)]
    [InlineData("a}", 5921)]
    [InlineData("", 0)]
    [InlineData("{user1000}.following", 3443)]
    public void Of_AnswersAsRedisServer(string key, int slot) => Assert.Equal(slot, HashSlot.Of(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public void Crc16_IsXmodem() => Assert.Equal(0x31C3, HashSlot.Crc16("123456789"u8));

    [Fact]
    public void KeysSharingATag_ShareAPartition_AndAPartitionIsAContiguousSlotRange()
    {
        var partitioner = new KeyPartitioner(8);
        Assert.Equal(partitioner.PartitionOf("{user1000}.following"u8), partitioner.PartitionOf("{user1000}.followers"u8));
        for (int i = 0; i < 5000; i++)
        {
            byte[] key = Encoding.UTF8.GetBytes($"key:{i}");
            int slot = HashSlot.Of(key);
            ulong hash = KeyPartitioner.HashKey(key);
            Assert.Equal((ulong)slot, hash >> 50);
            Assert.Equal(slot >> (HashSlot.Bits - 8), partitioner.PartitionOf(key).Value);
            Assert.InRange(hash, KeyPartitioner.FirstHashOfSlot(slot), KeyPartitioner.FirstHashOfSlot(slot) + ((1UL << 50) - 1));
        }
    }
}
