using Dynamite.Fuzzing;
using Xunit;
using Xunit.Abstractions;

namespace Dynamite.Protocols.Tests.Fuzzing;

/// <summary>
/// Mutation fuzzing of the RESP request parser. CI runs a fixed seed; set DYNAMITE_FUZZ_INPUTS=1000000 (and
/// optionally DYNAMITE_FUZZ_SEED) for the long run. A finding prints its seed and input hex: add the hex to
/// <see cref="RespFuzzRegressionTests"/>.
/// </summary>
[Collection(ProcessMeasurementCollection.Name)]
public sealed class RespParserFuzzTests(ITestOutputHelper output)
{
    private const int CiSeed = 6_5_2024;
    private const long CiInputs = 20_000;

    [Fact]
    public void TryParse_MutatedRealTraffic_OnlyEverThrowsProtocolErrorsWithinBoundedMemory()
    {
        var mutator = new FuzzMutator(RespSeedCorpus.Entries, LengthFieldFormat.RespDecimal, RespFuzzTarget.MaxInputBytes);
        FuzzReport report = FuzzRunner.Run(
            "resp-parser",
            mutator,
            FuzzOptions.FromEnvironment(CiSeed, CiInputs),
            RespFuzzTarget.Check,
            RespFuzzTarget.AllocationBound,
            output.WriteLine);

        output.WriteLine(report.ToString());
        Assert.True(report.Findings.Count == 0, report.ToString());
        // Nothing the parser does may keep memory alive across inputs.
        Assert.True(report.RetainedBytesGrowth < 16 * 1024 * 1024, report.ToString());
    }

    [Fact]
    public void SeedCorpus_EveryEntry_ParsesWithoutError()
    {
        foreach (byte[] entry in RespSeedCorpus.Entries)
        {
            Assert.Null(RespFuzzTarget.Check(entry, new Random(1)));
        }
    }
}
