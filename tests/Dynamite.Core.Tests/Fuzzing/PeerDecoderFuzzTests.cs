using Dynamite.Fuzzing;
using Xunit;
using Xunit.Abstractions;

namespace Dynamite.Core.Tests.Fuzzing;

/// <summary>
/// Mutation fuzzing of the peer frame decoder, every message decoder and the bodies they carry. CI runs a fixed seed;
/// set DYNAMITE_FUZZ_INPUTS=1000000 (and optionally DYNAMITE_FUZZ_SEED) for the long run. A finding prints its seed and
/// input hex: add the hex to <see cref="PeerFuzzRegressionTests"/>.
/// </summary>
[Collection(FuzzCollection.Name)]
public sealed class PeerDecoderFuzzTests(ITestOutputHelper output)
{
    private const int CiSeed = 6_5_2024;
    private const long CiInputs = 20_000;

    [Fact]
    public void TryReadFrame_MutatedRealFrames_OnlyEverThrowsProtocolOrFormatErrorsWithinBoundedMemory()
    {
        var mutator = new FuzzMutator(PeerSeedCorpus.Entries, LengthFieldFormat.BigEndianUInt32, PeerFuzzTarget.MaxInputBytes);
        FuzzReport report = FuzzRunner.Run(
            "peer-decoder",
            mutator,
            FuzzOptions.FromEnvironment(CiSeed, CiInputs),
            PeerFuzzTarget.Check,
            PeerFuzzTarget.AllocationBound,
            output.WriteLine);

        output.WriteLine(report.ToString());
        Assert.True(report.Findings.Count == 0, report.ToString());
        // Nothing the decoders do may keep memory alive across inputs.
        Assert.True(report.RetainedBytesGrowth < 16 * 1024 * 1024, report.ToString());
    }

    [Fact]
    public void SeedCorpus_EveryMessageType_IsCovered()
    {
        Assert.Equal(
            Enum.GetValues<Core.Peer.PeerMessageType>().ToHashSet(),
            PeerSeedCorpus.Messages.Select(m => m.Type).ToHashSet());
    }

    [Fact]
    public void SeedCorpus_EveryEntry_DecodesWithoutError()
    {
        foreach (byte[] entry in PeerSeedCorpus.Entries)
        {
            Assert.Null(PeerFuzzTarget.Check(entry, new Random(1)));
        }
    }
}
