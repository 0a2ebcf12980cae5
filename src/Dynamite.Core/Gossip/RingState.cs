using System.Collections.Immutable;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;
using Dynamite.Core.Wire;

namespace Dynamite.Core.Gossip;

/// <summary>
/// The ring part of the cluster state (riak_core's ring with its pending changes): the current
/// partition map, the pending map the claimant planned (target ownership while handoffs run), and
/// which nodes have reported that they hold every partition the plan gives them
/// (<see cref="HandoffPlan"/>). Requests are routed by <see cref="Current"/> until the whole plan is
/// complete, and then by the pending map at once: a partition's replica set depends on the owners of
/// the partitions after it, so switching owners one partition at a time would hand reads to replicas
/// that have not copied anything yet.
/// <para>
/// Merge is a CRDT join: the higher <see cref="Version"/> wins (only the claimant raises it, with a
/// new plan); at one version, two different plans (two claimants during a partition) are ordered by
/// their canonical encoding so every node picks the same one; for one plan, the ready sets
/// union, since a node once ready stays ready. That is a lexicographic product of a total
/// order with a set union, hence commutative, associative and idempotent.
/// </para>
/// </summary>
public sealed class RingState
{
    // Invariants: Version >= 1; Pending is null or has Current's Q; Ready is empty without a plan and
    // holds only members of the pending map; _plan is the canonical encoding of Current and Pending
    // (not Version, not Ready).
    private readonly byte[] _plan;

    private RingState(long version, PartitionMap current, PartitionMap? pending, ImmutableSortedSet<NodeId> ready, byte[]? plan = null)
    {
        Version = version;
        Current = current;
        Pending = pending;
        Ready = ready;
        _plan = plan ?? EncodePlan(current, pending);
    }

    public long Version { get; }

    /// <summary>Ownership before the pending plan; the source of every transfer.</summary>
    public PartitionMap Current { get; }

    /// <summary>Target ownership while handoffs run; null when no plan is in progress.</summary>
    public PartitionMap? Pending { get; }

    /// <summary>
    /// XXH64 of the plan (current and pending maps). Two claimants cut off from each other can publish different
    /// plans at one version, so a copy made for a plan is identified by version and digest together.
    /// </summary>
    public ulong PlanDigest => System.IO.Hashing.XxHash64.HashToUInt64(_plan);

    /// <summary>True when <paramref name="other"/> is the same plan (version and maps); readiness may differ.</summary>
    public bool IsSamePlan(RingState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Version == other.Version && _plan.AsSpan().SequenceEqual(other._plan);
    }

    /// <summary>Nodes that reported holding every partition the pending plan gives them.</summary>
    public ImmutableSortedSet<NodeId> Ready { get; }

    public int PartitionBits => Current.PartitionBits;

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

    /// <summary>The same plan with <paramref name="node"/> ready; this instance when it already is or no plan names it.</summary>
    public RingState MarkReady(NodeId node) =>
        Pending is null || !Pending.IsMember(node) || Ready.Contains(node) ? this : new RingState(Version, Current, Pending, Ready.Add(node), _plan);

    /// <summary>The partitions whose owner the pending plan changes, in partition order.</summary>
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
            if (current[p] != pending[p])
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

        if (other.Ready.IsSubsetOf(Ready))
        {
            return this;
        }

        return Ready.IsSubsetOf(other.Ready) ? other : new RingState(Version, Current, Pending, Ready.Union(other.Ready), _plan);
    }

    internal void WriteTo(GrowableWireWriter writer)
    {
        writer.WriteVarUInt64((ulong)Version);
        writer.WriteBytes(_plan);
        writer.WriteVarUInt64((ulong)Ready.Count);
        foreach (NodeId node in Ready)
        {
            writer.WriteString(node.Value);
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

        int count = reader.ReadCount(Math.Min(pending?.Members.Length ?? 0, reader.Remaining), "ready count");
        ImmutableSortedSet<NodeId>.Builder ready = ImmutableSortedSet.CreateBuilder<NodeId>();
        NodeId? previous = null;
        for (int i = 0; i < count; i++)
        {
            string id = GossipWire.ReadString(ref reader, "ready node");
            if (!NodeId.TryCreate(id, out NodeId node) || !pending!.IsMember(node) || (previous is not null && previous.Value >= node))
            {
                throw new FormatException($"Ready node '{id}' is not a member of the pending map, or the list is not sorted.");
            }

            ready.Add(node);
            previous = node;
        }

        var ring = new RingState((long)version, current, pending, ready.ToImmutable());
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
}
