using Xunit;

namespace Dynamite.Simulation.Tests;

public sealed class SimulationDeterminismTests
{
    [Theory]
    [InlineData(7)]
    [InlineData(288)]
    public void Execute_SameSeedTwice_IdenticalHistoryAndTrace(int seed)
    {
        SimulationResult first = SimulationRun.Execute(seed);
        SimulationResult second = SimulationRun.Execute(seed);
        Assert.NotEmpty(first.History.Entries);
        Assert.Equal(first.History.Render(), second.History.Render());
        Assert.Equal(first.Trace, second.Trace);
        Assert.Equal(first.Summary, second.Summary);
    }

    [Fact]
    public void Execute_DifferentSeeds_DifferentHistories()
    {
        Assert.NotEqual(SimulationRun.Execute(1).History.Render(), SimulationRun.Execute(2).History.Render());
    }

    [Fact]
    public void Report_AnyRun_NamesSeedAndReplayCommand()
    {
        SimulationResult result = SimulationRun.Execute(5);
        string report = result.Report();
        Assert.Contains("seed 5", report, StringComparison.Ordinal);
        Assert.Contains("DYNAMITE_SIM_SEED=5 dotnet test", report, StringComparison.Ordinal);
    }
}
