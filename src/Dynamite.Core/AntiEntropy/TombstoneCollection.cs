using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;

namespace Dynamite.Core.AntiEntropy;

/// <summary>
/// When a replica may finally delete a tombstone (Cassandra's gc_grace_seconds; Riak's delete_mode with
/// anti-entropy). A delete is a write of a tombstone precisely so that a replica that missed the delete, and
/// still holds the old value, is overruled by it on read repair and anti-entropy. If the tombstone vanished
/// from some replicas while another still held the old value, the next exchange would find the key "missing"
/// on the collectors and copy the old value back: the deleted key would come back. So a tombstone may go only
/// when both hold:
/// <list type="number">
/// <item>every replica of the partition is known to hold this exact tombstone: an exchange confirmed, for each
/// of them, the same key digest (<see cref="PartitionMerkleTree.KeyDigest(ReadOnlySpan{byte}, ulong)"/>) as the
/// local one. A digest names one exact object, so a confirmation cannot be mistaken for an older version;</item>
/// <item>its newest sibling is older than a grace period, which must exceed the longest time a write to the
/// key can still be in flight or parked: hints (hinted handoff replays the value a down replica missed, which
/// may be the pre-delete value), queued replica writes, a node that is down and not yet replaced. After the
/// grace period nothing older than the delete can still arrive.</item>
/// </list>
/// Pure: the runtime passes the confirmations it collected and the time.
/// </summary>
public static class TombstoneCollection
{
    /// <param name="stored">The local object for the key.</param>
    /// <param name="storedKeyDigest">Its key digest (what this replica's tree holds for the key).</param>
    /// <param name="replicas">Every replica the partition has now (primaries of its preference list, this node included).</param>
    /// <param name="confirmedDigests">Per replica, the key digest an exchange last confirmed it holds for the key.</param>
    /// <param name="nowUnixMs">The current time.</param>
    /// <param name="graceMs">The grace period; not negative.</param>
    public static TombstoneCollectionDecision Decide(
        VersionedObject stored,
        ulong storedKeyDigest,
        IReadOnlyCollection<NodeId> replicas,
        IReadOnlyDictionary<NodeId, ulong> confirmedDigests,
        long nowUnixMs,
        long graceMs)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(replicas);
        ArgumentNullException.ThrowIfNull(confirmedDigests);
        ArgumentOutOfRangeException.ThrowIfNegative(graceMs);

        if (stored.Siblings.IsEmpty || stored.HasLiveValue)
        {
            return TombstoneCollectionDecision.NotATombstone;
        }

        // An empty replica set confirms nothing: "all of none" must not delete data.
        if (replicas.Count == 0)
        {
            return TombstoneCollectionDecision.NotConfirmedByEveryReplica;
        }

        foreach (NodeId replica in replicas)
        {
            if (!confirmedDigests.TryGetValue(replica, out ulong digest) || digest != storedKeyDigest)
            {
                return TombstoneCollectionDecision.NotConfirmedByEveryReplica;
            }
        }

        long newest = long.MinValue;
        foreach (Sibling sibling in stored.Siblings)
        {
            newest = Math.Max(newest, sibling.TimestampUnixMs);
        }

        // The age in unsigned arithmetic: newest + grace, or a signed now - newest, could overflow into "old enough".
        bool old = nowUnixMs >= newest && (ulong)nowUnixMs - (ulong)newest >= (ulong)graceMs;
        return old ? TombstoneCollectionDecision.Collect : TombstoneCollectionDecision.WithinGracePeriod;
    }

    public static bool MayCollect(
        VersionedObject stored,
        ulong storedKeyDigest,
        IReadOnlyCollection<NodeId> replicas,
        IReadOnlyDictionary<NodeId, ulong> confirmedDigests,
        long nowUnixMs,
        long graceMs) =>
        Decide(stored, storedKeyDigest, replicas, confirmedDigests, nowUnixMs, graceMs) == TombstoneCollectionDecision.Collect;
}
