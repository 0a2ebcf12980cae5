using Xunit;

namespace Dynamite.Simulation.Tests;

/// <summary>One fault kind at a time, injected often, so a failure points at the fault that caused it.</summary>
public sealed class SimulationFaultTests
{
    private const int SeedsPerFault = 15;

    [Theory]
    [InlineData(FaultKinds.PartitionOne)]
    [InlineData(FaultKinds.PartitionHalves)]
    [InlineData(FaultKinds.PartitionOneWay)]
    [InlineData(FaultKinds.CrashKeep)]
    [InlineData(FaultKinds.CrashWipe)]
    [InlineData(FaultKinds.Pause)]
    [InlineData(FaultKinds.ClockSkew)]
    public void Execute_OneNodeOrPartitionFault_KeepsEveryPromiseAndInjectsIt(FaultKinds fault)
    {
        var options = new SimulationOptions { Faults = fault, MeanFaultIntervalMs = 700 };
        SimulationSeedTests.AssertSeedsPass(100, SeedsPerFault, options);
        Assert.True(SimulationRun.Execute(100, options).FaultsInjected > 0);
    }

    [Fact]
    public void Execute_MessageLossOnly_KeepsEveryPromiseAndDropsMessages()
    {
        var options = new SimulationOptions { Faults = FaultKinds.Loss, LossRate = 0.2 };
        SimulationSeedTests.AssertSeedsPass(200, SeedsPerFault, options);
        Assert.True(SimulationRun.Execute(200, options).MessagesDropped > 0);
    }

    [Fact]
    public void Execute_MessageDuplicationOnly_KeepsEveryPromiseAndDuplicates()
    {
        var options = new SimulationOptions { Faults = FaultKinds.Duplication, DuplicationRate = 0.3 };
        SimulationSeedTests.AssertSeedsPass(300, SeedsPerFault, options);
        Assert.True(SimulationRun.Execute(300, options).MessagesDuplicated > 0);
    }

    [Fact]
    public void Execute_ReorderingOnly_KeepsEveryPromise()
    {
        SimulationSeedTests.AssertSeedsPass(400, SeedsPerFault, new SimulationOptions { Faults = FaultKinds.Reordering, ReorderRate = 0.3 });
    }

    [Fact]
    public void Execute_NoFaults_EveryOperationSucceeds()
    {
        SimulationResult result = SimulationRun.Execute(500, new SimulationOptions { Faults = FaultKinds.None });
        Assert.True(result.Passed, result.Report());
        Assert.All(result.History.Entries, e => Assert.Equal(OperationStatus.Ok, e.Status));
    }
}
