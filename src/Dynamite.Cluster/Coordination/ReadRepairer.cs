using Dynamite.Cluster.Metrics;
using Dynamite.Cluster.Replication;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Versioning;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// Read repair (Dynamo §4.3 with riak_kv's read repair): sends the merge a read computed to each replica the read
/// found stale, this node's own copy merged in place. Best effort and not awaited by the client: a repair that
/// fails is left to the next read or to anti-entropy.
/// </summary>
internal sealed class ReadRepairer(ClusterOptions options, IClusterTopology topology, ReplicaStore local, ILogger logger, ClusterMetrics? metrics)
{
    /// <summary>Sends <paramref name="merged"/> to every node of <paramref name="stale"/>.</summary>
    public async Task RepairAsync(byte[] key, VersionedObject merged, NodeId[] stale)
    {
        byte[]? encoded = null;
        foreach (NodeId node in stale)
        {
            metrics?.ReadRepairsCounter.Add(1);
            try
            {
                if (node == options.Self.Id)
                {
                    await local.MergeAsync(key, merged);
                    continue;
                }

                encoded ??= merged.Encode();
                if (topology.ClientFor(node) is { } client)
                {
                    await client.SendAsync(new ReplicaPut(key, encoded), options.RequestTimeout);
                }
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // Repair is best effort: the next read or anti-entropy tries again.
                logger.LogDebug("Read repair of {Key} on {Node} failed: {Reason}", KeyText.Format(key), node, exception.Message);
            }
        }
    }
}
