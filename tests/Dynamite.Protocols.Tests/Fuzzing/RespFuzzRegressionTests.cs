using Xunit;

namespace Dynamite.Protocols.Tests.Fuzzing;

/// <summary>
/// Inputs the fuzzer found (paste a finding's hex here) and hand-made length attacks it should keep passing.
/// Each is replayed under many segmentations and both limit sets.
/// </summary>
public sealed class RespFuzzRegressionTests
{
    public static TheoryData<string> Inputs() =>
    [
        // "*1\r\n$2147483648\r\n": a bulk length over int.MaxValue.
        "2A310D0A24323134373438333634380D0A",
        // "*1\r\n$-1\r\n": a null bulk string inside a request.
        "2A310D0A242D310D0A",
        // "*9223372036854775807\r\n": the largest multibulk count.
        "2A393232333337323033363835343737353830370D0A",
        // "*-9223372036854775808\r\n": the smallest.
        "2A2D393232333337323033363835343737353830380D0A",
        // "*1\r\n$5\r\nab": a claimed bulk longer than what arrived.
        "2A310D0A24350D0A6162",
        // "SET \"a\\x": an unterminated escape in double quotes.
        "5345542022615C780D0A",
    ];

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Check_RegressionInput_HoldsEveryProperty(string hex)
    {
        byte[] input = Convert.FromHexString(hex);
        for (int seed = 0; seed < 64; seed++)
        {
            string? problem = RespFuzzTarget.Check(input, new Random(seed));
            Assert.True(problem is null, $"seed {seed}: {problem}");
        }
    }
}
