using Dynamite.Core.Membership;

namespace Dynamite.Core.Gossip;

/// <summary>
/// One member as the cluster state gossips it: its place in the topology, the address peers dial, the address Redis
/// clients connect to (what CLUSTER SLOTS and NODES tell cluster-aware clients), its status, and an incarnation counter (SWIM's incarnation number). Only the member itself
/// (joining, leaving, refuting a Down) or an explicit administrative action (remove, the claimant
/// promoting or retiring it) increments the incarnation; a failure detector marking it Down does
/// not. Two records of one member merge deterministically: the higher incarnation wins; on equal
/// incarnations the more severe status wins; then the ordinal order of address, datacenter, rack and
/// client address, so that <see cref="Precedes"/> is a total order and merging is a CRDT join.
/// </summary>
public sealed record MemberRecord(NodeDescriptor Node, string Address, MemberStatus Status, long Incarnation, string ClientAddress = "")
{
    /// <summary>The "host:port" Redis clients connect to; empty when the member has not said (a node of a simulation).</summary>
    public string ClientAddress { get; } = ClientAddress ?? throw new ArgumentNullException(nameof(ClientAddress));

    public NodeDescriptor Node { get; } = Node ?? throw new ArgumentNullException(nameof(Node));

    /// <summary>The "host:port" peers dial; never empty.</summary>
    public string Address { get; } = RequireAddress(Address);

    public MemberStatus Status { get; } = Enum.IsDefined(Status) ? Status : throw new ArgumentOutOfRangeException(nameof(Status), Status, "Unknown member status.");

    /// <summary>Never negative; only grows.</summary>
    public long Incarnation { get; } = Incarnation >= 0 ? Incarnation : throw new ArgumentOutOfRangeException(nameof(Incarnation), Incarnation, "The incarnation must not be negative.");

    public NodeId Id => Node.Id;

    /// <summary>True for the statuses that may own partitions in a new claim (a Down node keeps its share).</summary>
    public bool IsClaimTarget => Status is MemberStatus.Joining or MemberStatus.Up or MemberStatus.Down;

    /// <summary>The total order merges use: negative when this record loses to <paramref name="other"/>, zero when identical.</summary>
    public int Precedes(MemberRecord other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (Id != other.Id)
        {
            throw new ArgumentException($"Records of {Id} and {other.Id} do not describe one member.", nameof(other));
        }

        int order = Incarnation.CompareTo(other.Incarnation);
        if (order == 0)
        {
            order = ((byte)Status).CompareTo((byte)other.Status);
        }

        if (order == 0)
        {
            order = string.CompareOrdinal(Address, other.Address);
        }

        if (order == 0)
        {
            order = string.CompareOrdinal(Node.Datacenter, other.Node.Datacenter);
        }

        if (order == 0)
        {
            order = string.CompareOrdinal(Node.Rack, other.Node.Rack);
        }

        if (order == 0)
        {
            order = string.CompareOrdinal(ClientAddress, other.ClientAddress);
        }

        return order;
    }

    /// <summary>The record that survives a merge of two records of one member.</summary>
    public static MemberRecord Winner(MemberRecord a, MemberRecord b)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.Precedes(b) >= 0 ? a : b;
    }

    /// <summary>This member in <paramref name="status"/> at the next incarnation (an action by the member or an administrator).</summary>
    public MemberRecord Advance(MemberStatus status) => new(Node, Address, status, checked(Incarnation + 1), ClientAddress);

    /// <summary>This record with another status at the same incarnation (a transition decided by others).</summary>
    public MemberRecord WithStatus(MemberStatus status, long incarnation) => new(Node, Address, status, incarnation, ClientAddress);

    public override string ToString() => $"{Node} {Address} {Status}#{Incarnation}";

    private static string RequireAddress(string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address, nameof(Address));
        return address;
    }
}
