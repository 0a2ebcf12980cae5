using Dynamite.Core.Versioning;

namespace Dynamite.Simulation;

/// <summary>
/// One client operation: invoked at <see cref="InvokedMs"/> through <see cref="Node"/>, completed at
/// <see cref="CompletedMs"/> (simulated milliseconds since the start). A write's <see cref="Dot"/> is the dot its
/// coordinator gave it, known when acknowledged; a read's <see cref="Value"/> is the values it returned.
/// </summary>
public sealed class HistoryEntry
{
    public required int Index { get; init; }

    public required int Client { get; init; }

    public required OperationKind Kind { get; init; }

    public required string Key { get; init; }

    public required string Node { get; init; }

    public required long InvokedMs { get; init; }

    /// <summary>The written value, or the values a read returned (sorted, comma-separated).</summary>
    public string? Value { get; set; }

    public OperationStatus Status { get; set; }

    public long CompletedMs { get; set; }

    public Dot? Dot { get; set; }

    public VersionVector? Context { get; set; }

    public string? Error { get; set; }

    /// <summary>A typed set command as sent; it runs even when its client gave up waiting.</summary>
    public SimulatedSetCommand? SetCommand { get; set; }

    /// <summary>A typed set command: whether its coordinator's replica saw the member change (an SREM that removed it), known once it ran.</summary>
    public bool Changed => SetCommand?.Changed ?? ChangeProbe?.Invoke() ?? false;

    /// <summary>For a command of another typed key (a ZREM): whether its coordinator's replica saw it change something.</summary>
    public Func<bool>? ChangeProbe { get; set; }

    public override string ToString() =>
        $"#{Index} c{Client} {Kind} {Key}={Value} via {Node} [{InvokedMs}..{CompletedMs}] {Status}{(Dot is { } dot ? $" dot={dot}" : "")}{(Changed ? " changed" : "")}{(Error is null ? "" : $" ({Error})")}";
}
