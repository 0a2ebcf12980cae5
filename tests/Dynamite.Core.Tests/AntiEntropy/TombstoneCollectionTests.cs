using Dynamite.Core.AntiEntropy;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.AntiEntropy;

public sealed class TombstoneCollectionTests
{
    private const long Grace = 10 * 24 * 3600 * 1000L;
    private const long DeletedAt = 1_700_000_000_000;
    private static readonly NodeId A = new("a");
    private static readonly NodeId B = new("b");
    private static readonly NodeId C = new("c");
    private static readonly NodeId[] Replicas = [A, B, C];

    private static readonly VersionedObject Live = VersionedObject.Empty.Update(VersionVector.Empty, A, [1, 2, 3], DeletedAt - 5000, 0);
    private static readonly VersionedObject Tombstone = Live.Update(Live.Context, B, null, DeletedAt, 0);
    private static readonly ulong TombstoneDigest = PartitionMerkleTree.KeyDigest("k"u8, Tombstone.Encode());

    [Fact]
    public void Decide_ConfirmedOnEveryReplicaAndOlderThanGrace_Collect()
    {
        Assert.Equal(TombstoneCollectionDecision.Collect, Decide(Tombstone, AllConfirmed(), DeletedAt + Grace));
        Assert.True(TombstoneCollection.MayCollect(Tombstone, TombstoneDigest, Replicas, AllConfirmed(), DeletedAt + Grace, Grace));
    }

    [Fact]
    public void Decide_YoungerThanGrace_WithinGracePeriod()
    {
        Assert.Equal(TombstoneCollectionDecision.WithinGracePeriod, Decide(Tombstone, AllConfirmed(), DeletedAt + Grace - 1));
        Assert.Equal(TombstoneCollectionDecision.WithinGracePeriod, Decide(Tombstone, AllConfirmed(), DeletedAt - 1));
    }

    [Fact]
    public void Decide_OneReplicaUnconfirmedOrHoldingAnotherVersion_NotConfirmedByEveryReplica()
    {
        Dictionary<NodeId, ulong> missing = AllConfirmed();
        missing.Remove(C);
        Dictionary<NodeId, ulong> stale = AllConfirmed();
        stale[C] = PartitionMerkleTree.KeyDigest("k"u8, Live.Encode());

        Assert.Equal(TombstoneCollectionDecision.NotConfirmedByEveryReplica, Decide(Tombstone, missing, long.MaxValue));
        Assert.Equal(TombstoneCollectionDecision.NotConfirmedByEveryReplica, Decide(Tombstone, stale, long.MaxValue));
        Assert.Equal(
            TombstoneCollectionDecision.NotConfirmedByEveryReplica,
            TombstoneCollection.Decide(Tombstone, TombstoneDigest, [], AllConfirmed(), long.MaxValue, Grace));
    }

    [Fact]
    public void Decide_LiveValueOrConcurrentLiveSibling_NotATombstone()
    {
        VersionedObject concurrent = Tombstone.Merge(Live.Update(Live.Context, C, [9], DeletedAt, 0));
        Assert.True(concurrent.Siblings.Length > 1);

        Assert.Equal(TombstoneCollectionDecision.NotATombstone, Decide(Live, AllConfirmed(), long.MaxValue));
        Assert.Equal(TombstoneCollectionDecision.NotATombstone, Decide(concurrent, AllConfirmed(), long.MaxValue));
        Assert.Equal(TombstoneCollectionDecision.NotATombstone, Decide(VersionedObject.Empty, AllConfirmed(), long.MaxValue));
    }

    [Fact]
    public void Decide_NegativeTimestampAndFarFuture_NoOverflow()
    {
        VersionedObject ancient = VersionedObject.Empty.Update(VersionVector.Empty, A, null, -5, 0);
        ulong digest = PartitionMerkleTree.KeyDigest("k"u8, ancient.Encode());
        Dictionary<NodeId, ulong> confirmed = Replicas.ToDictionary(r => r, _ => digest);
        Assert.True(TombstoneCollection.MayCollect(ancient, digest, Replicas, confirmed, long.MaxValue, long.MaxValue));
    }

    private static TombstoneCollectionDecision Decide(VersionedObject stored, Dictionary<NodeId, ulong> confirmed, long now) =>
        TombstoneCollection.Decide(stored, PartitionMerkleTree.KeyDigest("k"u8, stored.Encode()), Replicas, confirmed, now, Grace);

    private static Dictionary<NodeId, ulong> AllConfirmed() => Replicas.ToDictionary(r => r, _ => TombstoneDigest);
}
