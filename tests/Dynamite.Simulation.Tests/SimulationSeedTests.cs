using System.Globalization;
using Xunit;

namespace Dynamite.Simulation.Tests;

/// <summary>
/// Seeded runs with every fault kind. CI runs a fixed range of seeds; DYNAMITE_SIM_SEEDS=10000 runs that many
/// more (opt-in), and DYNAMITE_SIM_SEED=n replays one seed, as a failing run's message says.
/// </summary>
public sealed class SimulationSeedTests
{
    private const int CiSeeds = 200;

    [Fact]
    public void Execute_FixedSeedsWithAllFaults_KeepsEveryPromise()
    {
        long requestsInRuns = AssertSeedsPass(1, CiSeeds, new SimulationOptions());

        // The listener's runs are on by default, as in production, and did form: a coordinator's puts to one replica
        // often arrive in the same simulated millisecond.
        Assert.True(requestsInRuns > 0, "no puts were served in runs");
    }

    [Fact]
    public void Execute_FixedSeedsReadingEveryReplica_KeepsEveryPromise()
    {
        // The default reads ask R replicas; Dynamo's ask-all fan-out (--read-fanout all) must keep the same promises.
        AssertSeedsPass(5_000, CiSeeds / 2, new SimulationOptions { ReadFanout = Core.Coordination.ReadFanout.All });
    }

    [Fact]
    public void Execute_FixedSeedsWithEveryRequestServedAlone_KeepsEveryPromise()
    {
        // The listener's path for requests of a type not served in runs (ReplicaRequestHandler.HandleAsync), under
        // every fault, for every put too.
        long requestsInRuns = AssertSeedsPass(30_000, CiSeeds / 2, new SimulationOptions { PeerRequestRuns = false });

        Assert.Equal(0, requestsInRuns);
    }

    [Fact]
    public void Execute_ManySeedsFromEnvironment_KeepsEveryPromise()
    {
        string? configured = Environment.GetEnvironmentVariable("DYNAMITE_SIM_SEEDS");
        if (string.IsNullOrEmpty(configured))
        {
            return;
        }

        int count = int.Parse(configured, CultureInfo.InvariantCulture);
        AssertSeedsPass(1_000_000, count, new SimulationOptions());
    }

    [Fact]
    public void Replay_SeedFromEnvironment_Passes()
    {
        string? configured = Environment.GetEnvironmentVariable("DYNAMITE_SIM_SEED");
        if (string.IsNullOrEmpty(configured))
        {
            return;
        }

        SimulationResult result = SimulationRun.Execute(int.Parse(configured, CultureInfo.InvariantCulture), new SimulationOptions());
        Assert.True(result.Passed, result.Report());
    }

    /// <summary>Runs the seeds and fails with the first failure's report; returns the requests served in runs over all of them.</summary>
    internal static long AssertSeedsPass(int firstSeed, int count, SimulationOptions options)
    {
        var failures = new List<SimulationResult>();
        long requestsInRuns = 0;
        for (int seed = firstSeed; seed < firstSeed + count; seed++)
        {
            SimulationResult result = SimulationRun.Execute(seed, options);
            requestsInRuns += result.RequestsInRuns;
            if (!result.Passed)
            {
                failures.Add(result);
            }
        }

        Assert.True(
            failures.Count == 0,
            $"{failures.Count} of {count} seeds failed: {string.Join(", ", failures.Select(f => f.Seed))}\n\n{(failures.Count > 0 ? failures[0].Report() : "")}");
        return requestsInRuns;
    }
}
