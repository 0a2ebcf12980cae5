using Dynamite.Core.Membership;
using Dynamite.Core.Quorum;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.Quorum;

public sealed class ReadRepairPlanTests
{
    private static readonly NodeId A = new("a");
    private static readonly NodeId B = new("b");
    private static readonly NodeId C = new("c");
    private static readonly NodeId D = new("d");

    private static readonly VersionedObject V1 = VersionedObject.Empty.Update(VersionVector.Empty, A, [1], 1, 0);
    private static readonly VersionedObject V2 = V1.Update(V1.Context, B, [2], 2, 0);
    private static readonly VersionedObject Concurrent = V1.Update(V1.Context, C, [3], 3, 0);

    [Fact]
    public void StaleReplicas_OldNotFoundAndCurrent_PicksOldAndNotFound()
    {
        var replies = new List<(NodeId, VersionedObject?)> { (A, V1), (B, V2), (C, null), (D, V2) };
        VersionedObject merged = Merge(replies);
        Assert.Equal([A, C], ReadRepairPlan.StaleReplicas(merged, replies));
    }

    [Fact]
    public void StaleReplicas_ConcurrentSiblings_RepairsBothSides()
    {
        var replies = new List<(NodeId, VersionedObject?)> { (A, V2), (B, Concurrent) };
        VersionedObject merged = Merge(replies);
        Assert.Equal(2, merged.Siblings.Length);
        Assert.Equal([A, B], ReadRepairPlan.StaleReplicas(merged, replies));
    }

    [Fact]
    public void StaleReplicas_AllAgree_None()
    {
        var replies = new List<(NodeId, VersionedObject?)> { (A, V2), (B, VersionedObject.Decode(V2.Encode())) };
        Assert.Empty(ReadRepairPlan.StaleReplicas(Merge(replies), replies));
    }

    [Fact]
    public void StaleReplicas_AllNotFound_None()
    {
        var replies = new List<(NodeId, VersionedObject?)> { (A, null), (B, VersionedObject.Empty) };
        Assert.Empty(ReadRepairPlan.StaleReplicas(VersionedObject.Empty, replies));
    }

    private static VersionedObject Merge(List<(NodeId Node, VersionedObject? Reply)> replies)
    {
        VersionedObject merged = VersionedObject.Empty;
        foreach ((_, VersionedObject? reply) in replies)
        {
            merged = merged.Merge(reply ?? VersionedObject.Empty);
        }

        return merged;
    }
}
