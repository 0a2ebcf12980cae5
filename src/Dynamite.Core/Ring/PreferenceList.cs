using System.Collections.Immutable;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;

namespace Dynamite.Core.Ring;

/// <summary>
/// The replicas of one partition in one datacenter, as <see cref="PreferenceListBuilder.Build"/>
/// computed them from a map and a reachability view: reachable primaries first, then fallbacks
/// that each stand in for one unreachable primary (Dynamo §4.5-4.6). Never the same node twice.
/// </summary>
public sealed class PreferenceList
{
    internal PreferenceList(
        PartitionId partition,
        string datacenter,
        ImmutableArray<NodeId> primaries,
        ImmutableArray<PreferenceListEntry> entries,
        ImmutableArray<NodeId> unreachablePrimaries)
    {
        Partition = partition;
        Datacenter = datacenter;
        Primaries = primaries;
        Entries = entries;
        UnreachablePrimaries = unreachablePrimaries;
    }

    public PartitionId Partition { get; }

    public string Datacenter { get; }

    /// <summary>All N primaries (or fewer when the datacenter has fewer nodes), reachable or not, in preference order.</summary>
    public ImmutableArray<NodeId> Primaries { get; }

    /// <summary>The replicas to contact: reachable primaries in preference order, then fallbacks in the order of the primaries they replace.</summary>
    public ImmutableArray<PreferenceListEntry> Entries { get; }

    /// <summary>Primaries the reachability view ruled out; each has a fallback in <see cref="Entries"/> when the datacenter had a spare node.</summary>
    public ImmutableArray<NodeId> UnreachablePrimaries { get; }

    /// <summary>Whether <paramref name="node"/> is one of the replicas to contact (a reachable primary or a fallback).</summary>
    public bool Contains(NodeId node) => TryGetEntry(node, out _);

    /// <summary>The entry for <paramref name="node"/>, if it is one of the replicas to contact.</summary>
    public bool TryGetEntry(NodeId node, out PreferenceListEntry entry)
    {
        foreach (PreferenceListEntry candidate in Entries)
        {
            if (candidate.Node == node)
            {
                entry = candidate;
                return true;
            }
        }

        entry = default;
        return false;
    }

    /// <summary>How many entries are primaries: what a PR/PW requirement counts.</summary>
    public int ReachablePrimaryCount => Primaries.Length - UnreachablePrimaries.Length;

    public override string ToString() => $"{Partition}@{Datacenter}: [{string.Join(", ", Entries)}]";
}
