using Dynamite.Cluster.AntiEntropy;
using Dynamite.Cluster.Node;
using Dynamite.Cluster.Replication;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;
using Dynamite.Core.KeyValue;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Membership;

/// <summary>
/// Hands off and deletes the data of partitions this node does not replicate (riak_core's handoff of a vnode the
/// node no longer owns): partitions it lost when a plan completed, and copies it kept as a fallback coordinator.
/// For each such partition that holds keys, it notes every key's digest, pushes the partition (a Merkle exchange
/// that repairs the primary's side only) to each of its current primaries, which must all be reachable and all succeed, and then deletes
/// each key whose stored object is still the one noted, in one atomic check-and-delete per key: anything that
/// arrived since stays for the next pass. So a key ends on exactly its N primaries, and nothing the node held is
/// dropped before the primaries hold it too. Runs only while no plan is pending (a gainer may still be copying
/// from this node) and the node is not warming up; the partition handoff loop calls it.
/// </summary>
public sealed class PartitionRelease(
    GossipMembership membership,
    ReplicaStore store,
    AntiEntropyService exchanger,
    NodeDescriptor self,
    TimeProvider clock,
    ILogger logger,
    DataIncarnation? incarnation = null)
{
    /// <summary>One pass over every partition this node does not replicate under <paramref name="map"/>; true when none holds a key any more.</summary>
    public async Task<bool> ReleaseAsync(PartitionMap map, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(map);
        var owned = new HashSet<PartitionId>(HandoffPlan.ReplicatedBy(map, self.Id, membership.Replicas));
        bool clean = true;
        for (int p = 0; p < map.PartitionCount; p++)
        {
            var partition = new PartitionId(p);
            if (owned.Contains(partition))
            {
                continue;
            }

            long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            List<(byte[] Key, ulong Digest)> held = [];
            foreach (StoredEntry entry in store.Engine.ReadPartition(partition, now))
            {
                held.Add((entry.Key, PartitionMerkleTree.KeyDigest(entry.Key, entry.Record.Value)));
            }

            if (held.Count > 0)
            {
                clean &= await ReleasePartitionAsync(map, partition, held, cancellationToken);
            }
        }

        return clean;
    }

    private async Task<bool> ReleasePartitionAsync(PartitionMap map, PartitionId partition, List<(byte[] Key, ulong Digest)> held, CancellationToken cancellationToken)
    {
        foreach (NodeId primary in PreferenceListBuilder.PrimariesOf(map, partition, self.Datacenter, membership.Replicas))
        {
            if (!membership.IsReachable(primary))
            {
                return false;
            }

            ExchangeResult result = await exchanger.ExchangeAsync(partition, primary, cancellationToken, pushOnly: true);
            if (result.Error is not null)
            {
                logger.LogDebug("Releasing partition {Partition}: exchange with {Primary} failed: {Reason}", partition, primary, result.Error);
                return false;
            }
        }

        // This node may have coordinated writes of these keys (as a fallback, or as their primary before): once it no
        // longer holds them, it would count their dots on from whatever a client read, so it takes a new actor first.
        incarnation?.Renew();
        int deleted = 0;
        foreach ((byte[] key, ulong digest) in held)
        {
            deleted += await store.DeleteIfDigestAsync(key, digest, cancellationToken) ? 1 : 0;
        }

        logger.LogInformation("Released partition {Partition}: {Keys} keys handed to its primaries and deleted here", partition, deleted);
        return deleted == held.Count;
    }
}
