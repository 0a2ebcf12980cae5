using Dynamite.Core.Versioning;

namespace Dynamite.Core.Tests.Versioning;

/// <summary>Three objects from one simulated history, for the merge laws.</summary>
public sealed record ObjectTriple(VersionedObject A, VersionedObject B, VersionedObject C)
{
    public override string ToString() => $"A = {A}\nB = {B}\nC = {C}";
}
