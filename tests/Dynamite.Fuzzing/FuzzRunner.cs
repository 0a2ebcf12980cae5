using System.Diagnostics;

namespace Dynamite.Fuzzing;

/// <summary>
/// Drives one target with mutated inputs and checks the properties every target shares: no exception escapes
/// (the target catches the ones its contract allows), no input takes long, no input allocates beyond its bound,
/// and the retained heap does not grow over the run.
/// </summary>
public static class FuzzRunner
{
    /// <summary>One input may not take longer than this; real parses take microseconds, so this only catches hangs.</summary>
    private static readonly TimeSpan SlowInput = TimeSpan.FromSeconds(2);

    private const int MaxFindings = 20;

    /// <summary>
    /// Runs <see cref="FuzzOptions.Inputs"/> inputs (stopping early after 20 findings). <c>check</c> runs one input and
    /// returns null when every property held, else what broke; <c>allocationBound</c> gives the most bytes the target
    /// may allocate for an input of the given length.
    /// </summary>
    public static FuzzReport Run(
        string target,
        FuzzMutator mutator,
        FuzzOptions options,
        Func<byte[], Random, string?> check,
        Func<int, long> allocationBound,
        Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(mutator);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(allocationBound);
        var findings = new List<FuzzFinding>();
        long maxAllocated = 0;
        long retainedBefore = GC.GetTotalMemory(forceFullCollection: true);
        var total = Stopwatch.StartNew();
        var single = new Stopwatch();
        long index = 0;
        for (; index < options.Inputs && findings.Count < MaxFindings; index++)
        {
            var random = new Random(InputSeed(options.Seed, index));
            byte[] input = mutator.Next(random);
            string? problem;
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            single.Restart();
            try
            {
                problem = check(input, random);
            }
            catch (Exception exception)
            {
                problem = $"unexpected {exception.GetType().FullName}: {exception.Message}{Environment.NewLine}{exception.StackTrace}";
            }

            single.Stop();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            maxAllocated = Math.Max(maxAllocated, allocated);
            if (problem is null && allocated > allocationBound(input.Length))
            {
                problem = $"allocated {allocated:N0} bytes for a {input.Length}-byte input (bound {allocationBound(input.Length):N0})";
            }

            if (problem is null && single.Elapsed > SlowInput)
            {
                problem = $"took {single.Elapsed.TotalMilliseconds:F0} ms";
            }

            if (problem is not null)
            {
                findings.Add(new FuzzFinding(target, options.Seed, index, problem, input));
            }

            if (progress is not null && index > 0 && index % 250_000 == 0)
            {
                progress($"[{target}] {index:N0} inputs, {total.Elapsed.TotalSeconds:F1} s, {findings.Count} finding(s)");
            }
        }

        total.Stop();
        long retainedGrowth = GC.GetTotalMemory(forceFullCollection: true) - retainedBefore;
        return new FuzzReport(target, options.Seed, index, total.Elapsed, maxAllocated, retainedGrowth, findings);
    }

    /// <summary>Input <paramref name="index"/>'s own seed (SplitMix64 of the pair), so one finding replays without the ones before it.</summary>
    public static int InputSeed(int seed, long index)
    {
        ulong z = unchecked(((ulong)(uint)seed << 32) ^ (ulong)index) + 0x9E3779B97F4A7C15UL;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)(z ^ (z >> 31));
    }
}
