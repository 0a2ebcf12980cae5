using System.Buffers;
using Dynamite.Core.Gossip;
using Dynamite.Core.Membership;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// New node → seed: "admit me". Carries the new member's record (its status is always Joining on
/// the wire); the seed applies <see cref="ClusterTransitions.Join"/> and answers with <see cref="JoinReply"/>.
/// </summary>
public sealed record JoinRequest(MemberRecord Member) : IPeerMessage<JoinRequest>
{
    public static PeerMessageType MessageType => PeerMessageType.JoinRequest;

    public PeerMessageType Type => MessageType;

    public int PayloadLength =>
        PeerPayloadWriter.StringSize(Member.Id.Value, PeerLimits.MaxNameBytes, "node id")
        + PeerPayloadWriter.StringSize(Member.Node.Datacenter, PeerLimits.MaxNameBytes, "datacenter")
        + PeerPayloadWriter.StringSize(Member.Node.Rack, PeerLimits.MaxNameBytes, "rack")
        + PeerPayloadWriter.StringSize(Member.Address, PeerLimits.MaxAddressBytes, "address")
        + 8
        + PeerPayloadWriter.StringSize(Member.ClientAddress, PeerLimits.MaxAddressBytes, "client address");

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteString(writer, Member.Id.Value, PeerLimits.MaxNameBytes, "node id");
        PeerPayloadWriter.WriteString(writer, Member.Node.Datacenter, PeerLimits.MaxNameBytes, "datacenter");
        PeerPayloadWriter.WriteString(writer, Member.Node.Rack, PeerLimits.MaxNameBytes, "rack");
        PeerPayloadWriter.WriteString(writer, Member.Address, PeerLimits.MaxAddressBytes, "address");
        PeerPayloadWriter.WriteInt64(writer, Member.Incarnation);
        PeerPayloadWriter.WriteString(writer, Member.ClientAddress, PeerLimits.MaxAddressBytes, "client address");
    }

    public static JoinRequest Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        string id = reader.ReadString("node id", PeerLimits.MaxNameBytes);
        string datacenter = reader.ReadString("datacenter", PeerLimits.MaxNameBytes);
        string rack = reader.ReadString("rack", PeerLimits.MaxNameBytes);
        string address = reader.ReadString("address", PeerLimits.MaxAddressBytes);
        long incarnation = reader.ReadInt64("incarnation");
        string clientAddress = reader.ReadString("client address", PeerLimits.MaxAddressBytes);
        reader.EnsureEnd();
        if (!NodeId.TryCreate(id, out NodeId nodeId))
        {
            throw new PeerProtocolException($"{MessageType} payload: '{id}' is not a valid node id");
        }

        if (string.IsNullOrWhiteSpace(datacenter) || string.IsNullOrWhiteSpace(rack) || string.IsNullOrWhiteSpace(address) || incarnation < 0)
        {
            throw new PeerProtocolException($"{MessageType} payload: empty datacenter, rack or address, or a negative incarnation");
        }

        return new JoinRequest(new MemberRecord(new NodeDescriptor(nodeId, datacenter, rack), address, MemberStatus.Joining, incarnation, clientAddress));
    }
}
