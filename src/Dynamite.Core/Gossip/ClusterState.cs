using System.Buffers;
using System.Collections.Immutable;
using System.IO.Hashing;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Ring;
using Dynamite.Core.Wire;

namespace Dynamite.Core.Gossip;

/// <summary>
/// The versioned cluster state every node gossips (riak_core's ring gossip, Dynamo §4.8): the
/// members with their status and address, the ring (<see cref="RingState"/>), and the ACL users
/// (<see cref="AclUserRecord"/>), so a user set through one node is enforced by every node. Immutable.
/// <para>
/// <see cref="Merge"/> is a state-based CRDT join, so gossip converges whatever the order,
/// duplication or grouping of exchanges: members merge per id by <see cref="MemberRecord.Precedes"/>
/// (last writer wins by incarnation, ties by status severity), removed members stay as tombstones,
/// the rings merge by <see cref="RingState.Merge"/>, and users merge per name by <see cref="AclUserRecord.Precedes"/>
/// (deleted users stay as tombstones, so a deletion is not undone by a node that missed it). Only the claimant (<see cref="Claimant"/>)
/// changes ownership; everyone else only learns it.
/// </para>
/// <para>
/// <see cref="Digest"/> is XXH64 over the canonical encoding (<see cref="Write"/>), so two nodes
/// compare states by exchanging 8 bytes; equal encodings mean equal states.
/// </para>
/// </summary>
public sealed class ClusterState : IEquatable<ClusterState>
{
    /// <summary>The first byte of every encoded state; a reader refuses any other.</summary>
    public const byte FormatVersion = 3;

    /// <summary>The format before ACL users were cluster state: read as a state without users.</summary>
    private const byte FormatWithoutUsers = 2;

    /// <summary>Upper bound on ACL users a decoder accepts.</summary>
    public const int MaxUsers = 4096;

    /// <summary>Upper bound on members a decoder accepts, so a corrupt count cannot allocate much.</summary>
    public const int MaxMembers = 4096;

    // Invariants: every member's key is its id; when Ring is set, every node in its maps has a member
    // record (the claimant only plans over members it knows, and merges never drop members).
    private byte[]? _encoded;
    private ulong? _digest;

    private static readonly ImmutableSortedDictionary<string, AclUserRecord> NoUsers = ImmutableSortedDictionary.Create<string, AclUserRecord>(StringComparer.Ordinal);

    private ClusterState(ImmutableSortedDictionary<NodeId, MemberRecord> members, RingState? ring, ImmutableSortedDictionary<string, AclUserRecord>? users = null)
    {
        Members = members;
        Ring = ring;
        Users = users ?? NoUsers;
    }

    /// <summary>What a node knows before it has joined anything: no members, no ring.</summary>
    public static ClusterState Empty { get; } = new(ImmutableSortedDictionary<NodeId, MemberRecord>.Empty, null);

    /// <summary>The ACL users set through any node, by name (tombstones of deleted ones included).</summary>
    public ImmutableSortedDictionary<string, AclUserRecord> Users { get; }

    public ImmutableSortedDictionary<NodeId, MemberRecord> Members { get; }

    /// <summary>Null until a cluster has been bootstrapped.</summary>
    public RingState? Ring { get; }

    /// <summary>0 before a ring exists.</summary>
    public long RingVersion => Ring?.Version ?? 0;

    /// <summary>Who owns each partition now (the ring's current map, which routes requests); null before a ring exists.</summary>
    public PartitionMap? Owners => Ring?.Current;

    /// <summary>XXH64 of the canonical encoding.</summary>
    public ulong Digest => _digest ??= XxHash64.HashToUInt64(Encoded);

    /// <summary>The claimant (riak_core): the lowest id among Up members; null when none is Up.</summary>
    public NodeId? Claimant
    {
        get
        {
            foreach (MemberRecord member in Members.Values)
            {
                if (member.Status == MemberStatus.Up)
                {
                    return member.Id;
                }
            }

            return null;
        }
    }

    /// <summary>The partitions whose owner the pending plan changes, in partition order.</summary>
    public IReadOnlyList<PartitionTransfer> PendingTransfers
    {
        get
        {
            var result = new List<PartitionTransfer>();
            if (Ring is null)
            {
                return result;
            }

            foreach ((PartitionId partition, NodeId from, NodeId to) in Ring.Transfers())
            {
                bool fromReplicas = !Members.TryGetValue(from, out MemberRecord? source) || source.Status is MemberStatus.Down or MemberStatus.Removed;
                result.Add(new PartitionTransfer(partition, from, to, fromReplicas));
            }

            return result;
        }
    }

    private byte[] Encoded => _encoded ??= Encode();

    /// <summary>A new cluster whose members are all Up and own an initial, rack-interleaved claim.</summary>
    public static ClusterState Bootstrap(IReadOnlyList<MemberRecord> members, int partitionBits)
    {
        ArgumentNullException.ThrowIfNull(members);
        ImmutableSortedDictionary<NodeId, MemberRecord>.Builder records = ImmutableSortedDictionary.CreateBuilder<NodeId, MemberRecord>();
        var nodes = new List<NodeDescriptor>(members.Count);
        foreach (MemberRecord member in members)
        {
            ArgumentNullException.ThrowIfNull(member, nameof(members));
            MemberRecord up = member.Status == MemberStatus.Up ? member : member.WithStatus(MemberStatus.Up, member.Incarnation);
            if (!records.TryAdd(member.Id, up))
            {
                throw new ArgumentException($"Node {member.Id} is listed twice.", nameof(members));
            }

            nodes.Add(member.Node);
        }

        return new ClusterState(records.ToImmutable(), RingState.Initial(PartitionClaim.Initial(nodes, partitionBits)));
    }

    public bool TryGetMember(NodeId node, out MemberRecord? member) => Members.TryGetValue(node, out member);

    public MemberRecord GetMember(NodeId node) =>
        Members.TryGetValue(node, out MemberRecord? member) ? member : throw new KeyNotFoundException($"Node {node} is not a member.");

    /// <summary>This state with one member's record replaced (or added).</summary>
    public ClusterState WithMember(MemberRecord member)
    {
        ArgumentNullException.ThrowIfNull(member);
        return new ClusterState(Members.SetItem(member.Id, member), Ring, Users);
    }

    public ClusterState WithRing(RingState ring)
    {
        ArgumentNullException.ThrowIfNull(ring);
        return ReferenceEquals(ring, Ring) ? this : new ClusterState(Members, ring, Users);
    }

    /// <summary>This state with one ACL user's record replaced (or added).</summary>
    public ClusterState WithUser(AclUserRecord user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new ClusterState(Members, Ring, Users.SetItem(user.Name, user));
    }

    /// <summary>The CRDT join of two states: commutative, associative, idempotent.</summary>
    public ClusterState Merge(ClusterState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(this, other))
        {
            return this;
        }

        ImmutableSortedDictionary<NodeId, MemberRecord> members = Members;
        foreach (KeyValuePair<NodeId, MemberRecord> entry in other.Members)
        {
            if (!members.TryGetValue(entry.Key, out MemberRecord? mine) || entry.Value.Precedes(mine) > 0)
            {
                members = members.SetItem(entry.Key, entry.Value);
            }
        }

        RingState? ring = (Ring, other.Ring) switch
        {
            (null, _) => other.Ring,
            (_, null) => Ring,
            _ => Ring.Merge(other.Ring),
        };

        ImmutableSortedDictionary<string, AclUserRecord> users = Users;
        foreach (KeyValuePair<string, AclUserRecord> entry in other.Users)
        {
            if (!users.TryGetValue(entry.Key, out AclUserRecord? mine) || entry.Value.Precedes(mine) > 0)
            {
                users = users.SetItem(entry.Key, entry.Value);
            }
        }

        if (ReferenceEquals(members, Members) && ReferenceEquals(ring, Ring) && ReferenceEquals(users, Users))
        {
            return this;
        }

        if (ReferenceEquals(members, other.Members) && ReferenceEquals(ring, other.Ring) && ReferenceEquals(users, other.Users))
        {
            return other;
        }

        return new ClusterState(members, ring, users);
    }

    /// <summary>The canonical encoding: format version, members sorted by id, the ring (a 0 byte when none), then users sorted by name.</summary>
    public void Write(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        ReadOnlySpan<byte> encoded = Encoded;
        encoded.CopyTo(output.GetSpan(encoded.Length));
        output.Advance(encoded.Length);
    }

    /// <summary>A copy of the canonical encoding.</summary>
    public byte[] ToBytes() => (byte[])Encoded.Clone();

    /// <summary>Decodes <see cref="Write"/>'s output; throws <see cref="FormatException"/> on anything else.</summary>
    public static ClusterState Read(ReadOnlySpan<byte> source)
    {
        var reader = new WireReader(source);
        byte version = reader.ReadByte();
        if (version != FormatVersion && version != FormatWithoutUsers)
        {
            throw new FormatException($"Cluster state format {version} is not supported (expected {FormatVersion}).");
        }

        int count = reader.ReadCount(Math.Min(MaxMembers, reader.Remaining / 6), "member count");
        ImmutableSortedDictionary<NodeId, MemberRecord>.Builder members = ImmutableSortedDictionary.CreateBuilder<NodeId, MemberRecord>();
        NodeId? previous = null;
        for (int i = 0; i < count; i++)
        {
            NodeDescriptor node = GossipWire.ReadDescriptor(ref reader);
            string address = GossipWire.ReadString(ref reader, "address");
            var status = (MemberStatus)reader.ReadByte();
            ulong incarnation = reader.ReadVarUInt64();
            string clientAddress = GossipWire.ReadString(ref reader, "client address");
            if (previous is not null && previous.Value >= node.Id)
            {
                throw new FormatException("Members are not sorted by id without duplicates.");
            }

            if (!Enum.IsDefined(status) || incarnation > long.MaxValue || string.IsNullOrWhiteSpace(address))
            {
                throw new FormatException($"Member {node.Id} has an invalid status, incarnation or address.");
            }

            members.Add(node.Id, new MemberRecord(node, address, status, (long)incarnation, clientAddress));
            previous = node.Id;
        }

        RingState? ring = reader.ReadByte() switch
        {
            0 => null,
            1 => RingState.ReadFrom(ref reader),
            byte other => throw new FormatException($"Ring flag {other} is neither 0 nor 1."),
        };
        ImmutableSortedDictionary<string, AclUserRecord> users = version == FormatWithoutUsers ? NoUsers : ReadUsers(ref reader);
        reader.ExpectEnd();

        if (ring is not null)
        {
            foreach (NodeDescriptor node in ring.Pending is null ? ring.Current.Members : ring.Current.Members.AddRange(ring.Pending.Members))
            {
                if (!members.ContainsKey(node.Id))
                {
                    throw new FormatException($"The ring names {node.Id}, which is not a member.");
                }
            }
        }

        return new ClusterState(members.ToImmutable(), ring, users);
    }

    private static ImmutableSortedDictionary<string, AclUserRecord> ReadUsers(ref WireReader reader)
    {
        int count = reader.ReadCount(Math.Min(MaxUsers, reader.Remaining / 4), "user count");
        ImmutableSortedDictionary<string, AclUserRecord>.Builder users = ImmutableSortedDictionary.CreateBuilder<string, AclUserRecord>(StringComparer.Ordinal);
        string? previous = null;
        for (int i = 0; i < count; i++)
        {
            string name = GossipWire.ReadString(ref reader, "user name");
            ulong userVersion = reader.ReadVarUInt64();
            string actor = GossipWire.ReadString(ref reader, "user actor");
            bool deleted = reader.ReadByte() switch
            {
                0 => false,
                1 => true,
                byte other => throw new FormatException($"User deletion flag {other} is neither 0 nor 1."),
            };
            string rules = GossipWire.ReadString(ref reader, "user rules", AclUserRecord.MaxRulesBytes);
            if (previous is not null && string.CompareOrdinal(previous, name) >= 0)
            {
                throw new FormatException("Users are not sorted by name without duplicates.");
            }

            if (name.Length == 0 || userVersion > long.MaxValue)
            {
                throw new FormatException($"User '{name}' has an empty name or an invalid version.");
            }

            users.Add(name, new AclUserRecord(name, (long)userVersion, actor, deleted, rules));
            previous = name;
        }

        return users.ToImmutable();
    }

    public bool Equals(ClusterState? other) =>
        other is not null && (ReferenceEquals(this, other) || (Digest == other.Digest && Encoded.AsSpan().SequenceEqual(other.Encoded)));

    public override bool Equals(object? obj) => Equals(obj as ClusterState);

    public override int GetHashCode() => (int)Digest;

    public override string ToString() => $"{Members.Count} members, ring v{RingVersion}, digest {Digest:x16}";

    private byte[] Encode()
    {
        var writer = new GrowableWireWriter();
        writer.WriteByte(FormatVersion);
        writer.WriteVarUInt64((ulong)Members.Count);
        foreach (MemberRecord member in Members.Values)
        {
            GossipWire.WriteDescriptor(writer, member.Node);
            writer.WriteString(member.Address);
            writer.WriteByte((byte)member.Status);
            writer.WriteVarUInt64((ulong)member.Incarnation);
            writer.WriteString(member.ClientAddress);
        }

        if (Ring is null)
        {
            writer.WriteByte(0);
        }
        else
        {
            writer.WriteByte(1);
            Ring.WriteTo(writer);
        }

        writer.WriteVarUInt64((ulong)Users.Count);
        foreach (AclUserRecord user in Users.Values)
        {
            writer.WriteString(user.Name);
            writer.WriteVarUInt64((ulong)user.Version);
            writer.WriteString(user.Actor);
            writer.WriteByte(user.Deleted ? (byte)1 : (byte)0);
            writer.WriteString(user.Rules);
        }

        return writer.WrittenSpan.ToArray();
    }
}
