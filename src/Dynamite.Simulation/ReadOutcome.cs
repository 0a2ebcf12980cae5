using Dynamite.Core.Versioning;

namespace Dynamite.Simulation;

/// <summary>What a coordinator answered to a read: the merged object, or why the quorum was not reached.</summary>
public sealed record ReadOutcome(bool Ok, VersionedObject Merged, string? Error)
{
    public static ReadOutcome Failed(string error) => new(false, VersionedObject.Empty, error);
}
