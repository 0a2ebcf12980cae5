using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;

namespace Dynamite.Core.Ring;

/// <summary>
/// The claim algorithm: who owns each of the 2^Q partitions (Dynamo §6.2, strategy 3, "Q/S tokens
/// per node, equal-sized partitions"; Riak's riak_core_claim, whose v2/v3 claim also spreads
/// consecutive partitions over distinct nodes so a preference list - N consecutive owners - never
/// lands twice on one node). Pure and deterministic: every node that runs it on the same input
/// computes the same map, so a map can be proposed by any node and checked by all.
/// <para>
/// Placement: per datacenter, the nodes are interleaved over racks (the rack with the most nodes
/// left goes next, never the rack just used when another is left, least recently used rack on a
/// tie, each rack's nodes in id order); the datacenters' sequences are interleaved the same way
/// into one cycle, and partition i goes to cycle[i mod count]. Walking the ring clockwise (what a
/// preference list does) a datacenter thus sees its own nodes in rack-interleaved order. When 2^Q
/// is not a multiple of the node count, the last partial cycle is rotated so that the wrap from
/// partition 2^Q-1 to 0 breaks the rack interleaving as little as possible.
/// </para>
/// </summary>
public static class PartitionClaim
{
    /// <summary>How many same-datacenter neighbours on each side a placement tries to keep on other racks (N=3 needs 2).</summary>
    private const int Lookahead = 2;

    /// <summary>Upper bound on the candidate partitions examined per move, so Q=16 rebalances stay linear-ish.</summary>
    private const int MaxCandidatesPerMove = 256;

    /// <summary>Upper bound on the ring positions scanned for a neighbour, for datacenters with very few nodes.</summary>
    private const int MaxNeighbourScan = 64;

    /// <summary>A first map for a new cluster: balanced to within one partition per node and rack-interleaved.</summary>
    public static PartitionMap Initial(IReadOnlyList<NodeDescriptor> nodes, int partitionBits)
    {
        NodeDescriptor[] sorted = SortedDistinct(nodes);
        if (partitionBits is < 1 or > KeyPartitioner.MaxPartitionBits)
        {
            throw new ArgumentOutOfRangeException(nameof(partitionBits), partitionBits, $"Q must be between 1 and {KeyPartitioner.MaxPartitionBits}.");
        }

        // Group by datacenter, then by rack; SortedDictionary keeps the ordinal order deterministic.
        var byDatacenter = new SortedDictionary<string, SortedDictionary<string, List<NodeDescriptor>>>(StringComparer.Ordinal);
        foreach (NodeDescriptor node in sorted)
        {
            if (!byDatacenter.TryGetValue(node.Datacenter, out SortedDictionary<string, List<NodeDescriptor>>? racks))
            {
                racks = new SortedDictionary<string, List<NodeDescriptor>>(StringComparer.Ordinal);
                byDatacenter.Add(node.Datacenter, racks);
            }

            if (!racks.TryGetValue(node.Rack, out List<NodeDescriptor>? rack))
            {
                rack = [];
                racks.Add(node.Rack, rack);
            }

            rack.Add(node);
        }

        var datacenterSequences = new List<List<NodeDescriptor>>(byDatacenter.Count);
        foreach (SortedDictionary<string, List<NodeDescriptor>> racks in byDatacenter.Values)
        {
            datacenterSequences.Add(Interleave([.. racks.Values]));
        }

        List<NodeDescriptor> cycle = Interleave(datacenterSequences);
        int partitionCount = 1 << partitionBits;
        int cycleLength = cycle.Count;
        int fullCycles = partitionCount / cycleLength;
        int remainder = partitionCount % cycleLength;
        var owners = new NodeDescriptor[partitionCount];
        for (int i = 0; i < fullCycles * cycleLength; i++)
        {
            owners[i] = cycle[i % cycleLength];
        }

        if (remainder > 0)
        {
            PlaceRemainder(owners, cycle, fullCycles * cycleLength, remainder);
        }

        var ownerIds = new NodeId[partitionCount];
        for (int i = 0; i < partitionCount; i++)
        {
            ownerIds[i] = owners[i].Id;
        }

        return new PartitionMap(partitionBits, sorted, ownerIds);
    }

    /// <summary>
    /// The map after a join or leave: partitions of departed nodes go to the least-loaded nodes,
    /// then single partitions move from the most- to the least-loaded node until the counts differ
    /// by at most one. Each move picks, among the donor's partitions, one whose neighbours are on
    /// other racks than the recipient, so the interleaving survives. A partition moves at most once
    /// in practice, so the number of moves stays close to the minimum a balanced map needs.
    /// </summary>
    public static PartitionMap Rebalance(PartitionMap previous, IReadOnlyList<NodeDescriptor> nodes)
    {
        ArgumentNullException.ThrowIfNull(previous);
        NodeDescriptor[] sorted = SortedDistinct(nodes);
        var index = new Dictionary<NodeId, int>(sorted.Length);
        for (int i = 0; i < sorted.Length; i++)
        {
            index.Add(sorted[i].Id, i);
        }

        int partitionCount = previous.PartitionCount;
        ReadOnlySpan<NodeId> previousOwners = previous.Owners;

        // owners[p] is an index into sorted, or -1 while the partition's owner has departed.
        int[] owners = new int[partitionCount];
        var owned = new List<int>[sorted.Length];
        for (int i = 0; i < sorted.Length; i++)
        {
            owned[i] = [];
        }

        for (int p = 0; p < partitionCount; p++)
        {
            if (index.TryGetValue(previousOwners[p], out int owner))
            {
                owners[p] = owner;
                owned[owner].Add(p);
            }
            else
            {
                owners[p] = -1;
            }
        }

        for (int p = 0; p < partitionCount; p++)
        {
            if (owners[p] >= 0)
            {
                continue;
            }

            int minimum = int.MaxValue;
            for (int n = 0; n < sorted.Length; n++)
            {
                minimum = Math.Min(minimum, owned[n].Count);
            }

            int best = -1;
            int bestScore = int.MaxValue;
            for (int n = 0; n < sorted.Length && bestScore > 0; n++)
            {
                if (owned[n].Count != minimum)
                {
                    continue;
                }

                int score = Conflicts(owners, sorted, p, n);
                if (score < bestScore)
                {
                    best = n;
                    bestScore = score;
                }
            }

            owners[p] = best;
            owned[best].Add(p);
        }

        while (true)
        {
            int donor = 0;
            int recipient = 0;
            for (int n = 1; n < sorted.Length; n++)
            {
                if (owned[n].Count > owned[donor].Count)
                {
                    donor = n;
                }

                if (owned[n].Count < owned[recipient].Count)
                {
                    recipient = n;
                }
            }

            if (owned[donor].Count - owned[recipient].Count <= 1)
            {
                break;
            }

            List<int> donated = owned[donor];
            int bestSlot = 0;
            int bestScore = int.MaxValue;
            int candidates = Math.Min(donated.Count, MaxCandidatesPerMove);
            for (int slot = 0; slot < candidates && bestScore > 0; slot++)
            {
                int score = Conflicts(owners, sorted, donated[slot], recipient);
                if (score < bestScore)
                {
                    bestSlot = slot;
                    bestScore = score;
                }
            }

            int moved = donated[bestSlot];
            donated.RemoveAt(bestSlot);
            owners[moved] = recipient;
            InsertSorted(owned[recipient], moved);
        }

        var ownerIds = new NodeId[partitionCount];
        for (int p = 0; p < partitionCount; p++)
        {
            ownerIds[p] = sorted[owners[p]].Id;
        }

        return new PartitionMap(previous.PartitionBits, sorted, ownerIds);
    }

    /// <summary>How many partitions change owner from <paramref name="before"/> to <paramref name="after"/>: the handoffs a transition costs.</summary>
    public static int CountMoves(PartitionMap before, PartitionMap after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        if (before.PartitionCount != after.PartitionCount)
        {
            throw new ArgumentException($"Maps of {before.PartitionCount} and {after.PartitionCount} partitions cannot be compared.", nameof(after));
        }

        ReadOnlySpan<NodeId> a = before.Owners;
        ReadOnlySpan<NodeId> b = after.Owners;
        int moves = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i])
            {
                moves++;
            }
        }

        return moves;
    }

    private static NodeDescriptor[] SortedDistinct(IReadOnlyList<NodeDescriptor> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count == 0)
        {
            throw new ArgumentException("A ring needs at least one node.", nameof(nodes));
        }

        NodeDescriptor[] sorted = [.. nodes];
        Array.Sort(sorted, static (a, b) => a.Id.CompareTo(b.Id));
        for (int i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].Id == sorted[i - 1].Id)
            {
                throw new ArgumentException($"Node {sorted[i].Id} is listed twice.", nameof(nodes));
            }
        }

        return sorted;
    }

    /// <summary>
    /// Merges groups into one sequence so that no two neighbours come from one group when that can
    /// be avoided: the group with the most items left goes next, never the group just used if
    /// another has items left, the least recently used on a tie (so equal groups rotate A B C A B C).
    /// </summary>
    private static List<NodeDescriptor> Interleave(List<List<NodeDescriptor>> groups)
    {
        int total = 0;
        foreach (List<NodeDescriptor> group in groups)
        {
            total += group.Count;
        }

        var result = new List<NodeDescriptor>(total);
        int[] taken = new int[groups.Count];
        int[] lastUsed = new int[groups.Count];
        Array.Fill(lastUsed, -1);
        int previous = -1;
        for (int step = 0; step < total; step++)
        {
            int best = -1;
            for (int g = 0; g < groups.Count; g++)
            {
                int left = groups[g].Count - taken[g];
                if (left == 0 || (g == previous && HasOtherGroupLeft(groups, taken, previous)))
                {
                    continue;
                }

                if (best < 0)
                {
                    best = g;
                    continue;
                }

                int bestLeft = groups[best].Count - taken[best];
                if (left > bestLeft || (left == bestLeft && lastUsed[g] < lastUsed[best]))
                {
                    best = g;
                }
            }

            result.Add(groups[best][taken[best]]);
            taken[best]++;
            lastUsed[best] = step;
            previous = best;
        }

        return result;
    }

    private static bool HasOtherGroupLeft(List<List<NodeDescriptor>> groups, int[] taken, int except)
    {
        for (int g = 0; g < groups.Count; g++)
        {
            if (g != except && groups[g].Count > taken[g])
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Fills the last, partial cycle with a window of the cycle starting at the offset that puts
    /// the fewest same-rack neighbours around the two seams (end of the full cycles, wrap to 0).
    /// </summary>
    private static void PlaceRemainder(NodeDescriptor[] owners, List<NodeDescriptor> cycle, int start, int remainder)
    {
        int cycleLength = cycle.Count;
        int bestOffset = 0;
        int bestScore = int.MaxValue;
        int offsets = Math.Min(cycleLength, MaxCandidatesPerMove);
        for (int offset = 0; offset < offsets && bestScore > 0; offset++)
        {
            for (int t = 0; t < remainder; t++)
            {
                owners[start + t] = cycle[(offset + t) % cycleLength];
            }

            int score = 0;
            for (int p = Math.Max(0, start - cycleLength); p < owners.Length; p++)
            {
                score += ForwardConflicts(owners, p);
            }

            if (score < bestScore)
            {
                bestScore = score;
                bestOffset = offset;
            }
        }

        for (int t = 0; t < remainder; t++)
        {
            owners[start + t] = cycle[(bestOffset + t) % cycleLength];
        }
    }

    /// <summary>Weighted conflicts between the owner of p and its next <see cref="Lookahead"/> same-datacenter owners (wrapping).</summary>
    private static int ForwardConflicts(NodeDescriptor[] owners, int p)
    {
        NodeDescriptor self = owners[p];
        int found = 0;
        int score = 0;
        int limit = Math.Min(owners.Length - 1, MaxNeighbourScan);
        for (int step = 1; step <= limit && found < Lookahead; step++)
        {
            NodeDescriptor other = owners[(p + step) % owners.Length];
            if (!string.Equals(other.Datacenter, self.Datacenter, StringComparison.Ordinal))
            {
                continue;
            }

            score += Conflict(self, other) * (Lookahead - found);
            found++;
        }

        return score;
    }

    /// <summary>Weighted conflicts if <paramref name="candidate"/> owned p: its nearest same-datacenter owners on both sides, departed owners (-1) skipped.</summary>
    private static int Conflicts(int[] owners, NodeDescriptor[] nodes, int p, int candidate)
    {
        NodeDescriptor self = nodes[candidate];
        int score = 0;
        int limit = Math.Min(owners.Length - 1, MaxNeighbourScan);
        for (int direction = -1; direction <= 1; direction += 2)
        {
            int found = 0;
            for (int step = 1; step <= limit && found < Lookahead; step++)
            {
                int q = (((p + (direction * step)) % owners.Length) + owners.Length) % owners.Length;
                if (owners[q] < 0)
                {
                    continue;
                }

                NodeDescriptor other = nodes[owners[q]];
                if (!string.Equals(other.Datacenter, self.Datacenter, StringComparison.Ordinal))
                {
                    continue;
                }

                score += Conflict(self, other) * (Lookahead - found);
                found++;
            }
        }

        return score;
    }

    /// <summary>
    /// The same node twice in a walk costs a replica; the same rack twice costs rack diversity.
    /// Callers weight a conflict by closeness: the nearest neighbour counts <see cref="Lookahead"/> times.
    /// </summary>
    private static int Conflict(NodeDescriptor a, NodeDescriptor b) =>
        a.Id == b.Id ? 4 : string.Equals(a.Rack, b.Rack, StringComparison.Ordinal) ? 1 : 0;

    private static void InsertSorted(List<int> list, int value)
    {
        int at = list.BinarySearch(value);
        list.Insert(at < 0 ? ~at : at, value);
    }
}
