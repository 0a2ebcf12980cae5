using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.Strings;

/// <summary>SETRANGE's size check: an offset near long.MaxValue is too large, never an overflow into a storage failure.</summary>
public sealed class SetRangeTests : StandaloneNodeTests
{
    [Theory]
    [InlineData("9223372036854775807")]
    [InlineData("9223372036854775806")]
    [InlineData("536870912")]
    public async Task SetRange_PastTheLargestValue_IsRefusedAsTooLarge(string offset)
    {
        await Expect("-ERR string exceeds maximum allowed size (max-value-size)\r\n", "SETRANGE", "k", offset, "A");
        await Expect("$-1\r\n", "GET", "nothing");
    }

    [Fact]
    public async Task SetRange_OverAnExistingValue_ChecksTheOffsetWithoutOverflow()
    {
        await Call("SET", "k", "hello");
        await Expect("-ERR string exceeds maximum allowed size (max-value-size)\r\n", "SETRANGE", "k", "9223372036854775807", "A");
        await Expect(":5\r\n", "SETRANGE", "k", "0", "J");
        await Expect("$5\r\nJello\r\n", "GET", "k");
    }
}
