using Dynamite.Core.Versioning;

namespace Dynamite.Simulation;

/// <summary>What a coordinator answered to a write: acknowledged with the write's dot, or not (the write may still be applied).</summary>
public sealed record WriteOutcome(bool Ok, Dot? Dot, string? Error)
{
    public static WriteOutcome Failed(string error) => new(false, null, error);
}
