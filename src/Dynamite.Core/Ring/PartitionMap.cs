using System.Collections.Immutable;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;

namespace Dynamite.Core.Ring;

/// <summary>
/// The ring: which member owns each of the 2^Q fixed partitions (Dynamo, strategy 3: equal-sized
/// partitions placed by a claim algorithm, not by node tokens), together with the members' topology
/// so a preference list can tell datacenters and racks apart. Immutable: a join or leave produces a
/// new map (<see cref="PartitionClaim.Rebalance"/>), which membership gossips as a versioned value.
/// </summary>
public sealed class PartitionMap
{
    // Invariants: _owners.Length == 2^PartitionBits; every owner is a member; _members is sorted by
    // id with no duplicates; _byId holds exactly _members.
    private readonly NodeId[] _owners;
    private readonly Dictionary<NodeId, NodeDescriptor> _byId;
    private readonly Dictionary<NodeId, int> _ownedCounts;

    /// <summary>Builds a map; prefer <see cref="PartitionClaim.Initial"/> and <see cref="PartitionClaim.Rebalance"/>.</summary>
    /// <param name="partitionBits">Q; the map has 2^Q partitions.</param>
    /// <param name="members">Every member, including any that own no partition yet.</param>
    /// <param name="owners">The owner of partition i at index i.</param>
    public PartitionMap(int partitionBits, IEnumerable<NodeDescriptor> members, IReadOnlyList<NodeId> owners)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(owners);
        if (partitionBits is < 1 or > KeyPartitioner.MaxPartitionBits)
        {
            throw new ArgumentOutOfRangeException(nameof(partitionBits), partitionBits, $"Q must be between 1 and {KeyPartitioner.MaxPartitionBits}.");
        }

        int count = 1 << partitionBits;
        if (owners.Count != count)
        {
            throw new ArgumentException($"Expected {count} owners for Q={partitionBits}, got {owners.Count}.", nameof(owners));
        }

        NodeDescriptor[] sorted = [.. members];
        Array.Sort(sorted, static (a, b) => a.Id.CompareTo(b.Id));
        _byId = new Dictionary<NodeId, NodeDescriptor>(sorted.Length);
        foreach (NodeDescriptor member in sorted)
        {
            ArgumentNullException.ThrowIfNull(member, nameof(members));
            if (!_byId.TryAdd(member.Id, member))
            {
                throw new ArgumentException($"Node {member.Id} is listed twice.", nameof(members));
            }
        }

        _owners = new NodeId[count];
        _ownedCounts = new Dictionary<NodeId, int>(sorted.Length);
        foreach (NodeDescriptor member in sorted)
        {
            _ownedCounts[member.Id] = 0;
        }

        for (int i = 0; i < count; i++)
        {
            NodeId owner = owners[i];
            if (owner.Value is null || !_byId.ContainsKey(owner))
            {
                throw new ArgumentException($"Partition {i} is owned by {owner}, which is not a member.", nameof(owners));
            }

            _owners[i] = owner;
            _ownedCounts[owner]++;
        }

        PartitionBits = partitionBits;
        Members = ImmutableArray.Create(sorted);
    }

    /// <summary>Q.</summary>
    public int PartitionBits { get; }

    /// <summary>2^Q.</summary>
    public int PartitionCount => _owners.Length;

    /// <summary>Every member, sorted by id.</summary>
    public ImmutableArray<NodeDescriptor> Members { get; }

    /// <summary>The owner of partition i at index i.</summary>
    public ReadOnlySpan<NodeId> Owners => _owners;

    public NodeId OwnerOf(PartitionId partition)
    {
        if ((uint)partition.Value >= (uint)_owners.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(partition), partition.Value, $"The map has {_owners.Length} partitions.");
        }

        return _owners[partition.Value];
    }

    public bool IsMember(NodeId node) => _byId.ContainsKey(node);

    /// <summary>The descriptor of a member; throws <see cref="KeyNotFoundException"/> for a non-member.</summary>
    public NodeDescriptor GetMember(NodeId node) =>
        _byId.TryGetValue(node, out NodeDescriptor? descriptor) ? descriptor : throw new KeyNotFoundException($"Node {node} is not a member.");

    public bool TryGetMember(NodeId node, out NodeDescriptor? descriptor) => _byId.TryGetValue(node, out descriptor);

    /// <summary>How many partitions <paramref name="node"/> owns (0 for a non-member).</summary>
    public int CountOwnedBy(NodeId node) => _ownedCounts.TryGetValue(node, out int count) ? count : 0;

    /// <summary>The partitions <paramref name="node"/> owns, in ascending order.</summary>
    public ImmutableArray<PartitionId> PartitionsOwnedBy(NodeId node)
    {
        ImmutableArray<PartitionId>.Builder result = ImmutableArray.CreateBuilder<PartitionId>(CountOwnedBy(node));
        for (int i = 0; i < _owners.Length; i++)
        {
            if (_owners[i] == node)
            {
                result.Add(new PartitionId(i));
            }
        }

        return result.MoveToImmutable();
    }

    /// <summary>True when both maps have the same Q, members (with topology) and owners.</summary>
    public bool HasSameLayout(PartitionMap other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return PartitionBits == other.PartitionBits
            && Members.AsSpan().SequenceEqual(other.Members.AsSpan())
            && _owners.AsSpan().SequenceEqual(other._owners);
    }
}
