using Xunit;

namespace Dynamite.Core.Tests.Fuzzing;

/// <summary>
/// Inputs the fuzzer found (paste a finding's hex here) and hand-made length attacks it should keep passing.
/// Each is replayed under many segmentations and both frame limits.
/// </summary>
public sealed class PeerFuzzRegressionTests
{
    public static TheoryData<string> Inputs() =>
    [
        // A frame claiming 4 GB.
        "FFFFFFFF0107000000000000000100",
        // A frame length below the header.
        "00000009010700000000000000",
        // A ReplicaPut whose key claims 2^31 bytes.
        "0000000E010A000000000000000180000000",
        // A ReplicaPut whose object is a versioned object claiming a huge sibling count (overlong varint).
        "0000001F010A0000000000000001000000016B0000000E0100FFFFFFFFFFFFFFFFFFFF01FF",
    ];

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Check_RegressionInput_HoldsEveryProperty(string hex)
    {
        byte[] input = Convert.FromHexString(hex);
        for (int seed = 0; seed < 64; seed++)
        {
            string? problem = PeerFuzzTarget.Check(input, new Random(seed));
            Assert.True(problem is null, $"seed {seed}: {problem}");
        }
    }
}
