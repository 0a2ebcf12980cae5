using System.Text;
using Dynamite.Protocols.Resp;
using Xunit;

namespace Dynamite.Protocols.Tests;

public sealed class RespNumbersTests
{
    [Theory]
    [InlineData("0", true, 0L)]
    [InlineData("-1", true, -1L)]
    [InlineData("9223372036854775807", true, long.MaxValue)]
    [InlineData("-9223372036854775808", true, long.MinValue)]
    [InlineData("9223372036854775808", false, 0L)]
    [InlineData("-0", false, 0L)]
    [InlineData("007", false, 0L)]
    [InlineData("+1", false, 0L)]
    [InlineData(" 1", false, 0L)]
    [InlineData("1 ", false, 0L)]
    [InlineData("", false, 0L)]
    [InlineData("1.0", false, 0L)]
    public void TryParseInt64_RedisString2llRules(string text, bool ok, long expected)
    {
        Assert.Equal(ok, RespNumbers.TryParseInt64(Encoding.ASCII.GetBytes(text), out long value));
        if (ok)
        {
            Assert.Equal(expected, value);
        }
    }

    [Theory]
    [InlineData("10.5", "0.1", "10.6")]
    [InlineData("5.0e3", "2.0e2", "5200")]
    [InlineData("3", "-3", "0")]
    [InlineData(".5", "5.", "5.5")]
    [InlineData("1", "0.00000000000000001", "1.00000000000000001")]
    public void IncrByFloat_DecimalInputs_FormatLikeRedis(string start, string increment, string expected)
    {
        Assert.True(RespNumbers.TryParseFloat(Encoding.ASCII.GetBytes(start), out RespFloat a));
        Assert.True(RespNumbers.TryParseFloat(Encoding.ASCII.GetBytes(increment), out RespFloat b));
        Assert.True(RespFloat.TryAdd(a, b, out RespFloat sum));
        Assert.Equal(expected, sum.ToHumanString());
    }

    [Theory]
    [InlineData("abc")]
    [InlineData(" 1")]
    [InlineData("nan")]
    [InlineData("inf")]
    [InlineData("")]
    public void TryParseFloat_Invalid_IsRejected(string text)
    {
        Assert.False(RespNumbers.TryParseFloat(Encoding.ASCII.GetBytes(text), out _));
    }
}
