using Dynamite.Core.Gossip;
using FsCheck.Xunit;

namespace Dynamite.Core.Tests.Gossip;

/// <summary>The CRDT laws gossip convergence rests on, over states from random histories.</summary>
public sealed class ClusterStateMergeTests
{
    [Property(Arbitrary = [typeof(GossipArbitraries)], MaxTest = 300)]
    public bool Merge_AnyTwo_IsCommutative(ClusterStateTriple t) => t.A.Merge(t.B).Equals(t.B.Merge(t.A));

    [Property(Arbitrary = [typeof(GossipArbitraries)], MaxTest = 300)]
    public bool Merge_AnyThree_IsAssociative(ClusterStateTriple t) => t.A.Merge(t.B).Merge(t.C).Equals(t.A.Merge(t.B.Merge(t.C)));

    [Property(Arbitrary = [typeof(GossipArbitraries)], MaxTest = 300)]
    public bool Merge_WithACopyOfItself_IsIdempotent(ClusterStateTriple t) => t.A.Merge(ClusterState.Read(t.A.ToBytes())).Equals(t.A);

    [Property(Arbitrary = [typeof(GossipArbitraries)], MaxTest = 300)]
    public bool Merge_AnyTwo_AbsorbsEither(ClusterStateTriple t)
    {
        ClusterState merged = t.A.Merge(t.B);
        return merged.Merge(t.A).Equals(merged) && merged.Merge(t.B).Equals(merged);
    }

    [Property(Arbitrary = [typeof(GossipArbitraries)], MaxTest = 300)]
    public bool Read_OfWrite_ReproducesTheStateAndDigest(ClusterStateTriple t)
    {
        ClusterState decoded = ClusterState.Read(t.C.ToBytes());
        return decoded.Equals(t.C) && decoded.Digest == t.C.Digest && decoded.Owners!.HasSameLayout(t.C.Owners!);
    }
}
