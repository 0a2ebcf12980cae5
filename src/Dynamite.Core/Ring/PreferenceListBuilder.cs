using System.Collections.Immutable;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;

namespace Dynamite.Core.Ring;

/// <summary>
/// Computes a partition's preference list (Dynamo §4.3 and §4.6; Riak's riak_core_apl, whose
/// get_apl_ann takes a ring snapshot and the set of up nodes, as this takes a map and a
/// reachability predicate). Pure: the caller fetches the map and the failure detector's view.
/// <para>
/// Primaries: walking the map clockwise from the partition, the first N distinct nodes of the
/// datacenter, first skipping any node whose rack is already used, then, when the datacenter has
/// fewer than N racks, filling up with any distinct node. Fallbacks (sloppy quorum): each
/// unreachable primary is replaced by the next reachable node of the datacenter, in walk order,
/// that is neither a primary nor already used.
/// </para>
/// </summary>
public static class PreferenceListBuilder
{
    /// <summary>The preference list of <paramref name="partition"/> in <paramref name="datacenter"/> under a reachability view.</summary>
    public static PreferenceList Build(PartitionMap map, PartitionId partition, string datacenter, int n, Func<NodeId, bool> isReachable)
    {
        ArgumentNullException.ThrowIfNull(isReachable);
        ImmutableArray<NodeId> primaries = PrimariesOf(map, partition, datacenter, n);
        var entries = ImmutableArray.CreateBuilder<PreferenceListEntry>(primaries.Length);
        List<NodeId>? unreachable = null;
        foreach (NodeId primary in primaries)
        {
            if (isReachable(primary))
            {
                entries.Add(new PreferenceListEntry(primary, IsPrimary: true, HintFor: null));
            }
            else
            {
                (unreachable ??= []).Add(primary);
            }
        }

        if (unreachable is null)
        {
            return new PreferenceList(partition, datacenter, primaries, entries.MoveToImmutable(), []);
        }

        // Fallbacks come from the rest of the walk, in walk order; each node is used at most once.
        int next = 0;
        ReadOnlySpan<NodeId> owners = map.Owners;
        var seen = new HashSet<NodeId>(primaries);
        int position = partition.Value;
        foreach (NodeId primary in unreachable)
        {
            NodeId? fallback = null;
            for (; next < owners.Length && fallback is null; next++)
            {
                NodeId candidate = owners[(position + next) % owners.Length];
                if (!seen.Add(candidate))
                {
                    continue;
                }

                if (string.Equals(map.GetMember(candidate).Datacenter, datacenter, StringComparison.Ordinal) && isReachable(candidate))
                {
                    fallback = candidate;
                }
            }

            if (fallback is { } found)
            {
                entries.Add(new PreferenceListEntry(found, IsPrimary: false, HintFor: primary));
            }
        }

        return new PreferenceList(partition, datacenter, primaries, entries.ToImmutable(), [.. unreachable]);
    }

    /// <summary>The first <paramref name="n"/> distinct nodes of <paramref name="datacenter"/> clockwise from the partition, distinct racks first; reachability ignored.</summary>
    public static ImmutableArray<NodeId> PrimariesOf(PartitionMap map, PartitionId partition, string datacenter, int n)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(datacenter);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        if ((uint)partition.Value >= (uint)map.PartitionCount)
        {
            throw new ArgumentOutOfRangeException(nameof(partition), partition.Value, $"The map has {map.PartitionCount} partitions.");
        }

        ReadOnlySpan<NodeId> owners = map.Owners;
        int position = partition.Value;
        var primaries = new List<NodeId>(n);
        var racks = new List<string>(n);

        // First pass: distinct racks. Stops as soon as N are found, which on a rack-interleaved map
        // is within the first few positions.
        for (int step = 0; step < owners.Length && primaries.Count < n; step++)
        {
            NodeId candidate = owners[(position + step) % owners.Length];
            NodeDescriptor member = map.GetMember(candidate);
            if (!string.Equals(member.Datacenter, datacenter, StringComparison.Ordinal)
                || primaries.Contains(candidate)
                || racks.Contains(member.Rack))
            {
                continue;
            }

            primaries.Add(candidate);
            racks.Add(member.Rack);
        }

        // Second pass, only when the datacenter has fewer racks than N: any distinct node.
        for (int step = 0; step < owners.Length && primaries.Count < n; step++)
        {
            NodeId candidate = owners[(position + step) % owners.Length];
            if (string.Equals(map.GetMember(candidate).Datacenter, datacenter, StringComparison.Ordinal) && !primaries.Contains(candidate))
            {
                primaries.Add(candidate);
            }
        }

        return [.. primaries];
    }
}
