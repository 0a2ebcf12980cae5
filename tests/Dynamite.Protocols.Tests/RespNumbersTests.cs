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
    [InlineData("5.6", "5.0e3", "5005.60000000000000009")]
    [InlineData("5005.60000000000000009", "2.0e2", "5205.60000000000000009")]
    [InlineData("3", "-3", "0")]
    [InlineData(".5", "5.", "5.5")]
    [InlineData("1", "0.00000000000000001", "1.00000000000000001")]
    [InlineData("1e5", "0", "100000")]
    [InlineData("-1.5", "1", "-0.5")]
    [InlineData("0.1", "0.2", "0.3")]
    public void ExtendedFloat_AddAndFormat_MatchesRedisLongDouble(string start, string increment, string expected)
    {
        Assert.True(ExtendedFloat.TryParse(Encoding.ASCII.GetBytes(start), out ExtendedFloat a));
        Assert.True(ExtendedFloat.TryParse(Encoding.ASCII.GetBytes(increment), out ExtendedFloat b));
        Assert.Equal(expected, ExtendedFloat.Add(a, b).ToHumanString());
    }

    [Fact]
    public void ExtendedFloat_Infinity_ParsesAndStaysInfinite()
    {
        Assert.True(ExtendedFloat.TryParse("-inf"u8, out ExtendedFloat infinity));
        Assert.True(ExtendedFloat.Add(infinity, ExtendedFloat.Zero).IsInfinity);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("nan")]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("1e")]
    [InlineData("1.2.3")]
    public void ExtendedFloat_Invalid_IsRejected(string text)
    {
        Assert.False(ExtendedFloat.TryParse(Encoding.ASCII.GetBytes(text), out _));
    }
}
