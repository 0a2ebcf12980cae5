namespace Dynamite.Simulation;

/// <summary>What a coordinator answered to a typed set read: its members in name order, or an error.</summary>
public sealed record TypedReadOutcome(bool Ok, IReadOnlyList<string> Members, string? Error);
