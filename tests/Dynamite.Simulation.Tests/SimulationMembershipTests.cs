using Xunit;

namespace Dynamite.Simulation.Tests;

/// <summary>
/// The membership schedule: a join, a leave and a crash-then-remove among every other fault, over the production
/// gossip, claimant, partition handoff, warm-up and partition release. Besides the usual promises, each run checks
/// that the plan completes once the network heals, that no plan switches before its gainers are ready, and that
/// every key ends on exactly its N primaries. Anti-entropy rounds (and their tombstone passes) run here too.
/// </summary>
public sealed class SimulationMembershipTests
{
    private const int CiSeeds = 200;

    private static readonly SimulationOptions Options = new() { MembershipChanges = true, AntiEntropyIntervalMs = 5_000 };

    [Fact]
    public void Execute_FixedSeedsWithMembershipChanges_KeepsEveryPromise()
    {
        SimulationSeedTests.AssertSeedsPass(20_000, CiSeeds, Options);
    }

    [Fact]
    public void Execute_ManyMembershipSeedsFromEnvironment_KeepsEveryPromise()
    {
        // DYNAMITE_SIM_SEEDS=10000 runs that many membership seeds too (opt-in, as for the default schedule).
        string? configured = Environment.GetEnvironmentVariable("DYNAMITE_SIM_SEEDS");
        if (!string.IsNullOrEmpty(configured))
        {
            SimulationSeedTests.AssertSeedsPass(2_000_000, int.Parse(configured, System.Globalization.CultureInfo.InvariantCulture), Options);
        }
    }

    [Fact]
    public void Execute_MembershipSchedule_ChangesMembershipAndMovesPartitions()
    {
        // Not vacuous: the schedule joins, retires and removes nodes, and the claimant makes plans that complete.
        SimulationResult result = SimulationRun.Execute(20_001, Options);
        Assert.True(result.Passed, result.Report());
        Assert.Contains(result.Trace, line => line.Contains("starts and joins", StringComparison.Ordinal));
        Assert.Contains(result.Trace, line => line.Contains("Claimant: new plan", StringComparison.Ordinal));
        Assert.Contains(result.Trace, line => line.Contains("retired", StringComparison.Ordinal));
    }
}
