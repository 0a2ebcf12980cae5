using Dynamite.Core.KeyValue;
using Xunit;

namespace Dynamite.Core.Tests;

public sealed class RedisIntegersTests
{
    [Theory]
    [InlineData(long.MaxValue, 1, false)]
    [InlineData(long.MaxValue, 0, true)]
    [InlineData(long.MinValue, -1, false)]
    [InlineData(long.MinValue, long.MaxValue, true)]
    [InlineData(-5, 3, true)]
    [InlineData(long.MaxValue - 2, 2, true)]
    [InlineData(long.MinValue + 2, -3, false)]
    public void TryAdd_AtTheEdges_RefusesExactlyTheSumsThatLeave64Bits(long value, long increment, bool fits)
    {
        Assert.Equal(fits, RedisIntegers.TryAdd(value, increment, out long sum));
        if (fits)
        {
            Assert.Equal((Int128)value + increment, sum);
        }
    }
}
