using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// The coordinator's routing: a key's preference list (<see cref="PreferenceListBuilder"/> over the topology's map and
/// reachability) and the nodes that gain its partition under the pending plan. Lists are cached per partition for
/// one map, one pending map and one reachability version: they change only when membership or some node's health
/// does, so building one per request (a ring walk) is waste. Entries are immutable; a race fills a slot twice with
/// equal values. Thread-safe.
/// </summary>
internal sealed class PreferenceLists(ClusterOptions options, IClusterTopology topology)
{
    private readonly KeyPartitioner _partitioner = new(options.PartitionBits);
    private volatile Cache? _cache;

    public PreferenceList Of(ReadOnlySpan<byte> key, out int n) => Of(key, out n, out _);

    /// <summary>The partition <paramref name="key"/> belongs to (fixed by the partition count, whatever the ring).</summary>
    public PartitionId PartitionOf(ReadOnlySpan<byte> key) => _partitioner.PartitionOf(key);

    /// <summary>The key's preference list, and the nodes that gain its partition under the pending plan (not in the list).</summary>
    public PreferenceList Of(ReadOnlySpan<byte> key, out int n, out NodeId[] gainers)
    {
        // The pending map is read first: at the switch from (current, pending) to (pending, none) either order of
        // reads then sees a consistent pair or (pending, pending), never (current, none), which would skip the gainers.
        PartitionMap? pending = topology.PendingMap;
        PartitionMap map = topology.Map ?? throw new StoreUnavailableException("NOQUORUM cluster not ready: " + topology.NotReadyReason);
        long version = topology.ReachabilityVersion;
        Cache? cache = _cache;
        if (cache is null || !ReferenceEquals(cache.Map, map) || !ReferenceEquals(cache.Pending, pending) || cache.Version != version)
        {
            cache = new Cache(map, pending, version);
            _cache = cache;
        }

        PartitionId partition = _partitioner.PartitionOf(key);
        PreferenceList list = cache.Lists[partition.Value] ??= PreferenceListBuilder.Build(map, partition, options.Self.Datacenter, options.ReplicationFactor, topology.IsReachable);
        gainers = cache.Gainers[partition.Value] ??= GainersOf(list, pending);
        n = Math.Max(1, list.Primaries.Length);
        return list;
    }

    private NodeId[] GainersOf(PreferenceList list, PartitionMap? pending)
    {
        if (pending is null)
        {
            return [];
        }

        var gainers = new List<NodeId>();
        foreach (NodeId replica in PreferenceListBuilder.PrimariesOf(pending, list.Partition, options.Self.Datacenter, options.ReplicationFactor))
        {
            if (replica != options.Self.Id && !list.Contains(replica))
            {
                gainers.Add(replica);
            }
        }

        return [.. gainers];
    }

    /// <summary>The lists and gainers of one (map, pending map, reachability version).</summary>
    private sealed class Cache(PartitionMap map, PartitionMap? pending, long version)
    {
        public PartitionMap Map { get; } = map;

        public PartitionMap? Pending { get; } = pending;

        public long Version { get; } = version;

        public PreferenceList?[] Lists { get; } = new PreferenceList?[map.PartitionCount];

        public NodeId[]?[] Gainers { get; } = new NodeId[]?[map.PartitionCount];
    }
}
