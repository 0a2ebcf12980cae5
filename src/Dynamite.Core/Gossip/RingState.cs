using System.Collections.Immutable;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;
using Dynamite.Core.Wire;

namespace Dynamite.Core.Gossip;

/// <summary>
/// The ring part of the cluster state (riak_core's ring with its pending changes): the current
/// partition map, the pending map the claimant planned (target ownership while handoffs run), and
/// which pending transfers have completed. A partition's owner is the pending owner once its
/// transfer has completed and the current owner until then, so a new owner takes over only when its
/// copy is complete (<see cref="Effective"/>).
/// <para>
/// Merge is a CRDT join: the higher <see cref="Version"/> wins (only the claimant raises it, with a
/// new plan); at one version, two different plans (two claimants during a partition) are ordered by
/// their canonical encoding so every node picks the same one; for one plan, the completed sets
/// union, since a transfer once complete stays complete. That is a lexicographic product of a total
/// order with a set union, hence commutative, associative and idempotent.
/// </para>
/// </summary>
public sealed class RingState
{
    // Invariants: Version >= 1; Pending is null or has Current's Q; every completed partition is below
    // the partition count and has Pending owner != Current owner; _plan is the canonical encoding of
    // Current and Pending (not Version, not Completed).
    private readonly byte[] _plan;
    private PartitionMap? _effective;

    private RingState(long version, PartitionMap current, PartitionMap? pending, ImmutableSortedSet<int> completed, byte[]? plan = null)
    {
        Version = version;
        Current = current;
        Pending = pending;
        Completed = completed;
        _plan = plan ?? EncodePlan(current, pending);
    }

    public long Version { get; }

    /// <summary>Ownership before the pending plan; the source of every transfer.</summary>
    public PartitionMap Current { get; }

    /// <summary>Target ownership while handoffs run; null when no plan is in progress.</summary>
    public PartitionMap? Pending { get; }

    /// <summary>Partitions (indexes) whose transfer to the pending owner has completed.</summary>
    public ImmutableSortedSet<int> Completed { get; }

    public int PartitionBits => Current.PartitionBits;

    /// <summary>Who owns each partition now: the pending owner where the transfer completed, the current owner elsewhere.</summary>
    public PartitionMap Effective => _effective ??= ComputeEffective();

    /// <summary>True when a plan is in progress and every transfer in it has completed.</summary>
    public bool IsPlanComplete => Pending is not null && Transfers().Count == 0;

    /// <summary>The first ring of a cluster.</summary>
    public static RingState Initial(PartitionMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return new RingState(1, map, null, []);
    }

    /// <summary>A new plan at the next version: <paramref name="current"/> with transfers towards <paramref name="pending"/> (null: none).</summary>
    public RingState Plan(PartitionMap current, PartitionMap? pending)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (pending is not null && pending.PartitionBits != current.PartitionBits)
        {
            throw new ArgumentException("The pending map must have the current map's Q.", nameof(pending));
        }

        return new RingState(checked(Version + 1), current, pending, []);
    }

    /// <summary>The same plan with one more completed transfer; this instance when already complete.</summary>
    public RingState Complete(int partition) =>
        Completed.Contains(partition) ? this : new RingState(Version, Current, Pending, Completed.Add(partition), _plan);

    /// <summary>The transfers of the pending plan that have not completed, in partition order.</summary>
    public IReadOnlyList<(PartitionId Partition, NodeId From, NodeId To)> Transfers()
    {
        var result = new List<(PartitionId, NodeId, NodeId)>();
        if (Pending is null)
        {
            return result;
        }

        ReadOnlySpan<NodeId> current = Current.Owners;
        ReadOnlySpan<NodeId> pending = Pending.Owners;
        for (int p = 0; p < current.Length; p++)
        {
            if (current[p] != pending[p] && !Completed.Contains(p))
            {
                result.Add((new PartitionId(p), current[p], pending[p]));
            }
        }

        return result;
    }

    public RingState Merge(RingState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(this, other) || Version > other.Version)
        {
            return this;
        }

        if (other.Version > Version)
        {
            return other;
        }

        int order = _plan.AsSpan().SequenceCompareTo(other._plan);
        if (order != 0)
        {
            return order > 0 ? this : other;
        }

        if (other.Completed.IsSubsetOf(Completed))
        {
            return this;
        }

        return Completed.IsSubsetOf(other.Completed) ? other : new RingState(Version, Current, Pending, Completed.Union(other.Completed), _plan);
    }

    internal void WriteTo(GrowableWireWriter writer)
    {
        writer.WriteVarUInt64((ulong)Version);
        writer.WriteBytes(_plan);
        writer.WriteVarUInt64((ulong)Completed.Count);
        int previous = -1;
        foreach (int partition in Completed)
        {
            // Deltas from the previous entry, minus one: strictly ascending by construction.
            writer.WriteVarUInt64((ulong)(partition - previous - 1));
            previous = partition;
        }
    }

    internal static RingState ReadFrom(ref WireReader reader)
    {
        ulong version = reader.ReadVarUInt64();
        if (version is 0 or > long.MaxValue)
        {
            throw new FormatException($"Ring version {version} is out of range.");
        }

        int planStart = reader.Position;
        PartitionMap current = ReadMap(ref reader, null);
        bool hasPending = reader.ReadByte() switch
        {
            0 => false,
            1 => true,
            byte other => throw new FormatException($"Pending flag {other} is neither 0 nor 1."),
        };
        PartitionMap? pending = hasPending ? ReadMap(ref reader, current.PartitionBits) : null;
        int planLength = reader.Position - planStart;

        int count = reader.ReadCount(Math.Min(current.PartitionCount, reader.Remaining), "completed count");
        ImmutableSortedSet<int>.Builder completed = ImmutableSortedSet.CreateBuilder<int>();
        long partition = -1;
        for (int i = 0; i < count; i++)
        {
            partition += (long)reader.ReadVarUInt64() + 1;
            if (pending is null || partition >= current.PartitionCount || current.Owners[(int)partition] == pending.Owners[(int)partition])
            {
                throw new FormatException($"Completed partition {partition} is not a pending transfer.");
            }

            completed.Add((int)partition);
        }

        var ring = new RingState((long)version, current, pending, completed.ToImmutable());
        if (ring._plan.Length != planLength)
        {
            // Only a canonical encoding is accepted, so equal plans always compare equal byte for byte.
            throw new FormatException("The partition maps are not in canonical form.");
        }

        return ring;
    }

    private static byte[] EncodePlan(PartitionMap current, PartitionMap? pending)
    {
        var writer = new GrowableWireWriter();
        WriteMap(writer, current);
        if (pending is null)
        {
            writer.WriteByte(0);
        }
        else
        {
            writer.WriteByte(1);
            WriteMap(writer, pending);
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Q, the members (sorted by id, as the map keeps them), then each partition's owner as an index into them.</summary>
    private static void WriteMap(GrowableWireWriter writer, PartitionMap map)
    {
        writer.WriteByte((byte)map.PartitionBits);
        writer.WriteVarUInt64((ulong)map.Members.Length);
        var index = new Dictionary<NodeId, int>(map.Members.Length);
        foreach (NodeDescriptor member in map.Members)
        {
            index.Add(member.Id, index.Count);
            GossipWire.WriteDescriptor(writer, member);
        }

        foreach (NodeId owner in map.Owners)
        {
            writer.WriteVarUInt64((ulong)index[owner]);
        }
    }

    private static PartitionMap ReadMap(ref WireReader reader, int? expectedBits)
    {
        int bits = reader.ReadByte();
        if (bits is < 1 or > KeyPartitioner.MaxPartitionBits || (expectedBits is not null && bits != expectedBits))
        {
            throw new FormatException($"Partition bits {bits} are out of range.");
        }

        int memberCount = reader.ReadCount(Math.Min(1 << bits, reader.Remaining / 3), "map member count");
        if (memberCount == 0)
        {
            throw new FormatException("A partition map has no members.");
        }

        var members = new NodeDescriptor[memberCount];
        for (int i = 0; i < memberCount; i++)
        {
            members[i] = GossipWire.ReadDescriptor(ref reader);
            if (i > 0 && members[i - 1].Id >= members[i].Id)
            {
                throw new FormatException("Map members are not sorted by id without duplicates.");
            }
        }

        int count = 1 << bits;
        if (reader.Remaining < count)
        {
            throw new FormatException($"Input truncated: {count} owners expected.");
        }

        var owners = new NodeId[count];
        for (int p = 0; p < count; p++)
        {
            owners[p] = members[reader.ReadCount(memberCount - 1, "owner index")].Id;
        }

        return new PartitionMap(bits, members, owners);
    }

    private PartitionMap ComputeEffective()
    {
        if (Pending is null || Completed.IsEmpty)
        {
            return Current;
        }

        var members = new Dictionary<NodeId, NodeDescriptor>();
        foreach (NodeDescriptor member in Current.Members)
        {
            members[member.Id] = member;
        }

        foreach (NodeDescriptor member in Pending.Members)
        {
            members[member.Id] = member;
        }

        NodeId[] owners = Current.Owners.ToArray();
        foreach (int partition in Completed)
        {
            owners[partition] = Pending.Owners[partition];
        }

        return new PartitionMap(PartitionBits, members.Values, owners);
    }
}
