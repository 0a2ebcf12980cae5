namespace Dynamite.Simulation;

/// <summary>What a coordinator answered to a typed set command: acknowledged, or not (the change may still be applied).</summary>
public sealed record SetCommandOutcome(bool Ok, string? Error);
