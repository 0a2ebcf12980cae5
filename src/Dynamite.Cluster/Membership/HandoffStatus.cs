namespace Dynamite.Cluster.Membership;

/// <summary>What this node's partition handoff is doing, for status pages (the keys it copied are a metric: <c>ClusterMetrics.HandoffKeysCopied</c>).</summary>
/// <param name="Phase">Idle, copying partitions it gains under a plan, or warming up after a wipe.</param>
/// <param name="PlanVersion">The ring version of the plan being copied for (0 for warm-up).</param>
/// <param name="Partitions">Partitions to copy in this phase.</param>
/// <param name="Copied">Partitions copied so far.</param>
/// <param name="LastError">Why some partition could not be copied in the last pass, if so.</param>
public sealed record HandoffStatus(HandoffPhase Phase, long PlanVersion, int Partitions, int Copied, string? LastError)
{
    public static HandoffStatus Idle { get; } = new(HandoffPhase.Idle, 0, 0, 0, null);

    public int Pending => Partitions - Copied;
}

/// <summary>The phases of <see cref="HandoffStatus"/>.</summary>
public enum HandoffPhase
{
    Idle,
    Copying,
    WarmingUp,
}
