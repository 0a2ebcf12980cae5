using Dynamite.Core.Gossip;

namespace Dynamite.Core.Tests.Gossip;

/// <summary>Three views of one cluster that a random history passed through; printed by FsCheck on failure.</summary>
public sealed record ClusterStateTriple(ClusterState A, ClusterState B, ClusterState C, string History)
{
    public override string ToString() => $"{A} | {B} | {C} after {History}";
}
