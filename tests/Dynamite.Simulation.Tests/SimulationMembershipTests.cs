using Xunit;

namespace Dynamite.Simulation.Tests;

/// <summary>
/// The membership schedule: a join, a leave and a crash-then-remove among every other fault, over the production
/// gossip, claimant, partition handoff, warm-up and partition release. Besides the usual promises, each run checks
/// that the plan completes once the network heals and that every key ends on exactly its N primaries.
/// </summary>
public sealed class SimulationMembershipTests
{
    private const int CiSeeds = 200;

    [Fact]
    public void Execute_FixedSeedsWithMembershipChanges_KeepsEveryPromise()
    {
        SimulationSeedTests.AssertSeedsPass(20_000, CiSeeds, new SimulationOptions { MembershipChanges = true });
    }

    [Fact]
    public void Execute_MembershipSchedule_ChangesMembershipAndMovesPartitions()
    {
        // Not vacuous: the schedule joins, retires and removes nodes, and the claimant makes plans that complete.
        SimulationResult result = SimulationRun.Execute(20_001, new SimulationOptions { MembershipChanges = true });
        Assert.True(result.Passed, result.Report());
        Assert.Contains(result.Trace, line => line.Contains("starts and joins", StringComparison.Ordinal));
        Assert.Contains(result.Trace, line => line.Contains("Claimant: new plan", StringComparison.Ordinal));
        Assert.Contains(result.Trace, line => line.Contains("retired", StringComparison.Ordinal));
    }
}
