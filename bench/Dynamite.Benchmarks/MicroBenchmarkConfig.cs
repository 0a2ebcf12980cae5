using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Dynamite.Benchmarks;

/// <summary>
/// One short job for every benchmark, so the suite finishes in a few minutes on two shared cores: 1 launch,
/// 3 warm-ups, 5 iterations. In-process: the default toolchain generates and builds a project under this
/// folder, which inherits the repository's warnings-as-errors rules it was not written for, and a build per
/// run is minutes on this machine. Allocation counts (what the budget checks) are exact either way.
/// </summary>
public static class MicroBenchmarkConfig
{
    public static IConfig Create(string artifactsPath) =>
        ManualConfig.CreateMinimumViable()
            .AddJob(Job.Default
                .WithLaunchCount(1)
                .WithWarmupCount(3)
                .WithIterationCount(5)
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithId("Micro"))
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddExporter(JsonExporter.Brief)
            .WithArtifactsPath(artifactsPath)
            .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);
}
