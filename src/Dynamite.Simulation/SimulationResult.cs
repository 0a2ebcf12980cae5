namespace Dynamite.Simulation;

/// <summary>The outcome of one run: the history, the checkers' verdicts, and the last trace lines.</summary>
public sealed class SimulationResult
{
    public required int Seed { get; init; }

    public required SimulationOptions Options { get; init; }

    public required History History { get; init; }

    /// <summary>Broken promises; empty when the run passed.</summary>
    public required IReadOnlyList<string> Violations { get; init; }

    public required IReadOnlyList<string> Trace { get; init; }

    /// <summary>One line of counts: operations, messages, faults, hints, repairs, simulated time.</summary>
    public required string Summary { get; init; }

    public required int FaultsInjected { get; init; }

    public required long MessagesDropped { get; init; }

    public required long MessagesDuplicated { get; init; }

    public required long RequestsInRuns { get; init; }

    public required long HintsReplayed { get; init; }

    public bool Passed => Violations.Count == 0;

    /// <summary>The command that replays this run (the default options; the tests' fault-specific runs name their test).</summary>
    public string ReplayCommand =>
        $"DYNAMITE_SIM_SEED={Seed} dotnet test tests/Dynamite.Simulation.Tests --filter \"FullyQualifiedName~SimulationSeedTests.Replay_SeedFromEnvironment_Passes\"";

    /// <summary>What a failing test prints: the seed, the replay command, the violations and the trace.</summary>
    public string Report() =>
        $"Simulation seed {Seed} {(Passed ? "passed" : "FAILED")}: {Summary}\n"
        + $"Replay: {ReplayCommand}\n"
        + $"Options: {Options}\n"
        + (Passed ? "" : "Violations:\n  " + string.Join("\n  ", Violations.Take(20)) + "\n")
        + "Trace (last lines):\n  " + string.Join("\n  ", Trace);
}
