namespace Dynamite.Core.Gossip;

/// <summary>
/// What a claimant step did. <paramref name="Moves"/> counts the partitions the new plan moves;
/// <paramref name="IdealMoves"/> is the fewest any balanced plan could move (see
/// <see cref="Claimant.IdealMoves"/>), so Moves / IdealMoves is the claim's overhead.
/// </summary>
public sealed record ClaimResult(ClusterState State, bool Changed, int Moves, int IdealMoves)
{
    public static ClaimResult Unchanged(ClusterState state) => new(state, false, 0, 0);
}
