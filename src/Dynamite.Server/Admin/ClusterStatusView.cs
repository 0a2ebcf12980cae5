using System.Globalization;
using Dynamite.Cluster.Membership;
using Dynamite.Cluster.Metrics;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;
using Dynamite.Server.Hosting;
using Dynamite.Server.Metrics;
using Dynamite.Storage.Metrics;

namespace Dynamite.Server.Admin;

/// <summary>
/// A cluster node as its operators see it: INFO's cluster section, the admin API's <c>/v1/cluster</c> status (what
/// <c>dynamite status</c> prints) and <c>/v1/ring</c>. The state comes from the node's parts (membership, ring,
/// handoff phase, failure detector, configuration); every counter and gauge comes from the node's instruments
/// through one <see cref="MeterReader"/> snapshot per call, so the numbers are those <c>/metrics</c> exports.
/// </summary>
public sealed class ClusterStatusView(ClusterServices cluster, MeterReader metrics)
{
    /// <summary>The INFO "cluster" section (field names are read by scripts and tests: keep them).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> InfoLines()
    {
        MetricsSnapshot snapshot = metrics.Snapshot();
        var configuration = cluster.Configuration;
        GossipMembership membership = cluster.Membership;
        var lines = new List<KeyValuePair<string, string>>
        {
            new("cluster_enabled", "1"),
            new("cluster_name", configuration.ClusterName),
            new("node_id", configuration.NodeId),
            new("datacenter", configuration.Datacenter),
            new("rack", configuration.Rack),
            new("cluster_state", membership.Map is null ? "waiting" : membership.IsWarming ? "warming" : "ok"),
            new("cluster_members", Number(membership.State.Members.Values.Count(m => m.Status != MemberStatus.Removed))),
            new("ring_version", Number(membership.State.RingVersion)),
            new("cluster_state_digest", membership.State.Digest.ToString("x16", CultureInfo.InvariantCulture)),
            new("plan_pending", membership.PendingMap is null ? "0" : "1"),
            new("handoff_phase", cluster.PartitionHandoff.Status.Phase.ToString().ToLowerInvariant()),
            new("handoff_partitions_pending", Whole(snapshot, ClusterMetrics.HandoffPartitionsPending)),
            new("handoff_keys_copied", Whole(snapshot, ClusterMetrics.HandoffKeysCopied)),
            new("replication_n", Number(configuration.ReplicationFactor)),
            new("read_quorum", Number(configuration.ReadQuorum)),
            new("write_quorum", Number(configuration.WriteQuorum)),
            new("hinted_handoff", configuration.HintedHandoff ? "on" : "off"),
            new("read_repair", configuration.ReadRepair ? "on" : "off"),
            new("read_fanout", configuration.ReadFanout.ToString().ToLowerInvariant()),
            new("hints_pending", Whole(snapshot, ClusterMetrics.HintsPending)),
            new("hints_stored", Whole(snapshot, ClusterMetrics.HintsStored)),
            new("speculative_reads", Whole(snapshot, ClusterMetrics.SpeculativeReads)),
            new("hints_replayed", Whole(snapshot, ClusterMetrics.HintsReplayed)),
            new("hints_unreadable", Whole(snapshot, ClusterMetrics.HintsUnreadable)),
            new("read_repairs", Whole(snapshot, ClusterMetrics.ReadRepairs)),
            new("replica_writes_in_flight", Whole(snapshot, ClusterMetrics.ReplicaWritesInFlight)),
            new("replica_write_failures", Whole(snapshot, ClusterMetrics.ReplicaWriteFailures)),
            new("aae", configuration.AntiEntropy ? "on" : "off"),
            new("aae_interval_seconds", Number(configuration.AntiEntropyIntervalSeconds)),
            new("aae_rounds", Whole(snapshot, ClusterMetrics.AntiEntropyRounds)),
            new("aae_keys_repaired", Whole(snapshot, ClusterMetrics.AntiEntropyKeysRepaired)),
            new("aae_bytes_exchanged", Whole(snapshot, ClusterMetrics.AntiEntropyExchanged)),
            new("tombstone_grace_seconds", Number(configuration.TombstoneGraceSeconds)),
            new("tombstones_collected", Whole(snapshot, ClusterMetrics.TombstonesCollected)),
            new("aae_tree_bytes", Whole(snapshot, ClusterMetrics.AntiEntropyTreeSize)),
        };
        foreach ((string node, long count) in snapshot.WholeBy(ClusterMetrics.HintsPending, "node"))
        {
            lines.Add(new($"hints_pending_for_{node}", Number(count)));
        }

        foreach (PeerHealthStatus peer in membership.Detector.Snapshot())
        {
            lines.Add(new(
                $"peer_{peer.Peer}",
                string.Create(CultureInfo.InvariantCulture, $"health={peer.Health.ToString().ToLowerInvariant()},phi={peer.Phi:0.00},address={membership.AddressOf(peer.Peer)},failures={peer.ConsecutiveFailures}")));
        }

        return lines;
    }

    /// <summary>The admin API's view of the cluster from this node (<c>/v1/cluster</c>; <c>dynamite status</c> reads it).</summary>
    public object Status()
    {
        MetricsSnapshot snapshot = metrics.Snapshot();
        var configuration = cluster.Configuration;
        GossipMembership membership = cluster.Membership;
        Dictionary<string, long> hintsByNode = snapshot.WholeBy(ClusterMetrics.HintsPending, "node").ToDictionary(pair => pair.Key, pair => pair.Value);
        ClusterState state = membership.State;
        RingState? ring = state.Ring;
        HandoffStatus handoff = cluster.PartitionHandoff.Status;
        return new
        {
            clusterName = configuration.ClusterName,
            nodeId = configuration.NodeId,
            state = membership.Map is null ? "waiting: " + membership.NotReadyReason : membership.IsWarming ? "warming" : "ok",
            n = configuration.ReplicationFactor,
            r = configuration.ReadQuorum,
            w = configuration.WriteQuorum,
            ringVersion = state.RingVersion,
            planPending = ring?.Pending is not null,
            handoff = new
            {
                phase = handoff.Phase.ToString().ToLowerInvariant(),
                planVersion = handoff.PlanVersion,
                partitions = handoff.Partitions,
                copied = handoff.Copied,
                keysCopied = snapshot.Whole(ClusterMetrics.HandoffKeysCopied),
                keysPerSecond = cluster.PartitionHandoff.KeysPerSecond,
                lastError = handoff.LastError,
            },
            members = state.Members.Values.Select(m => new
            {
                id = m.Id.Value,
                self = m.Id == membership.Self,
                state = MemberState(m),
                status = m.Status.ToString().ToLowerInvariant(),
                datacenter = m.Node.Datacenter,
                rack = m.Node.Rack,
                address = m.Address,
                partitionsOwned = ring?.Current.CountOwnedBy(m.Id) ?? 0,
                partitionsOwnedAfterPlan = ring?.Pending?.CountOwnedBy(m.Id),
                handoffsPending = HandoffsPending(m.Id, ring, snapshot),
                hintsPendingHere = hintsByNode.GetValueOrDefault(m.Id.Value),
            }),
            peers = membership.Detector.Snapshot().Select(p => new
            {
                id = p.Peer.Value,
                health = p.Health.ToString().ToLowerInvariant(),
                phi = double.IsFinite(p.Phi) ? p.Phi : double.MaxValue,
                lastHeartbeatUnixMs = p.LastHeartbeatUnixMs,
                consecutiveFailures = p.ConsecutiveFailures,
            }),
            hintsPending = hintsByNode,
            hintsStored = snapshot.Whole(ClusterMetrics.HintsStored),
            hintsReplayed = snapshot.Whole(ClusterMetrics.HintsReplayed),
            readRepairs = snapshot.Whole(ClusterMetrics.ReadRepairs),
            speculativeReads = snapshot.Whole(ClusterMetrics.SpeculativeReads),
            replicaWritesInFlight = snapshot.Whole(ClusterMetrics.ReplicaWritesInFlight),
            replicaWriteFailures = snapshot.Whole(ClusterMetrics.ReplicaWriteFailures),
            localKeys = (long)snapshot.Total(StorageMetrics.Keys, "store", "data"),
            antiEntropy = new
            {
                enabled = configuration.AntiEntropy,
                intervalSeconds = configuration.AntiEntropyIntervalSeconds,
                rounds = snapshot.Whole(ClusterMetrics.AntiEntropyRounds),
                keysRepaired = snapshot.Whole(ClusterMetrics.AntiEntropyKeysRepaired),
                bytesExchanged = snapshot.Whole(ClusterMetrics.AntiEntropyExchanged),
                tombstoneGraceSeconds = configuration.TombstoneGraceSeconds,
                tombstonesCollected = snapshot.Whole(ClusterMetrics.TombstonesCollected),
                treeBytes = snapshot.Whole(ClusterMetrics.AntiEntropyTreeSize),
                partitions = cluster.AntiEntropy.Partitions.OrderBy(p => p.Key).Select(p => new
                {
                    partition = p.Key,
                    lastExchangeUnixMs = p.Value.LastExchangeUnixMs,
                    lastPeer = p.Value.LastPeer,
                    lastKeysRepaired = p.Value.LastKeysRepaired,
                    totalKeysRepaired = p.Value.TotalKeysRepaired,
                }),
            },
        };
    }

    /// <summary>The admin API's ring: for every partition, its owner and its preference list in this datacenter.</summary>
    public object Ring()
    {
        GossipMembership membership = cluster.Membership;
        PartitionMap? map = membership.Map;
        if (map is null)
        {
            return new { state = "waiting: " + membership.NotReadyReason, partitions = Array.Empty<object>() };
        }

        var configuration = cluster.Configuration;
        var partitions = new List<object>(map.PartitionCount);
        for (int p = 0; p < map.PartitionCount; p++)
        {
            var partition = new PartitionId(p);
            PreferenceList list = PreferenceListBuilder.Build(map, partition, configuration.Datacenter, configuration.ReplicationFactor, membership.IsReachable);
            partitions.Add(new
            {
                partition = p,
                owner = map.OwnerOf(partition).Value,
                primaries = list.Primaries.Select(n => n.Value),
                unreachable = list.UnreachablePrimaries.Select(n => n.Value),
                fallbacks = list.Entries.Where(e => !e.IsPrimary).Select(e => new { node = e.Node.Value, hintFor = e.HintFor?.Value }),
            });
        }

        return new { state = "ok", partitionBits = map.PartitionBits, datacenter = configuration.Datacenter, n = configuration.ReplicationFactor, partitions };
    }

    /// <summary>
    /// A member's state as this node sees it: warming (this node, copying after a wipe), down (its failure detector
    /// says so), else its gossiped status (joining, up, leaving, removed).
    /// </summary>
    private string MemberState(MemberRecord member)
    {
        GossipMembership membership = cluster.Membership;
        if (member.Id == membership.Self)
        {
            return membership.IsWarming ? "warming" : member.Status.ToString().ToLowerInvariant();
        }

        return member.Status != MemberStatus.Removed && !membership.IsReachable(member.Id) ? "down" : member.Status.ToString().ToLowerInvariant();
    }

    /// <summary>Partitions a member still has to copy: this node's own count from its handoff, others' from the plan and their ready reports.</summary>
    private long HandoffsPending(NodeId node, RingState? ring, MetricsSnapshot snapshot)
    {
        if (node == cluster.Membership.Self)
        {
            return snapshot.Whole(ClusterMetrics.HandoffPartitionsPending);
        }

        return ring?.Pending is null || ring.Ready.Contains(node) ? 0 : HandoffPlan.GainedBy(ring.Current, ring.Pending, node, cluster.Configuration.ReplicationFactor).Count;
    }

    private static string Whole(MetricsSnapshot snapshot, string instrument) => Number(snapshot.Whole(instrument));

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
