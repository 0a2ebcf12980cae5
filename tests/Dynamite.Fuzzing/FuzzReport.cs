namespace Dynamite.Fuzzing;

/// <summary>What one fuzz run did and found.</summary>
public sealed record FuzzReport(
    string Target,
    int Seed,
    long Inputs,
    TimeSpan Elapsed,
    long MaxAllocatedBytesPerInput,
    long RetainedBytesGrowth,
    IReadOnlyList<FuzzFinding> Findings)
{
    public override string ToString() =>
        $"[{Target}] seed {Seed}: {Inputs:N0} inputs in {Elapsed.TotalSeconds:F1} s ({Inputs / Math.Max(Elapsed.TotalSeconds, 0.001):N0}/s), "
        + $"max {MaxAllocatedBytesPerInput:N0} bytes allocated by one input, retained heap growth {RetainedBytesGrowth:N0} bytes, "
        + $"{Findings.Count} finding(s)"
        + string.Concat(Findings.Select(f => Environment.NewLine + f));
}
