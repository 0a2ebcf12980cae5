using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>The wire form of a <see cref="PeerIdentity"/>: four strings, node id, datacenter, rack, client address.</summary>
internal static class PeerIdentityCodec
{
    public static int Size(PeerIdentity identity) =>
        PeerPayloadWriter.StringSize(identity.NodeId, PeerLimits.MaxNameBytes, "node id")
        + PeerPayloadWriter.StringSize(identity.Datacenter, PeerLimits.MaxNameBytes, "datacenter")
        + PeerPayloadWriter.StringSize(identity.Rack, PeerLimits.MaxNameBytes, "rack")
        + PeerPayloadWriter.StringSize(identity.ClientAddress, PeerLimits.MaxAddressBytes, "client address");

    public static void Write(IBufferWriter<byte> writer, PeerIdentity identity)
    {
        PeerPayloadWriter.WriteString(writer, identity.NodeId, PeerLimits.MaxNameBytes, "node id");
        PeerPayloadWriter.WriteString(writer, identity.Datacenter, PeerLimits.MaxNameBytes, "datacenter");
        PeerPayloadWriter.WriteString(writer, identity.Rack, PeerLimits.MaxNameBytes, "rack");
        PeerPayloadWriter.WriteString(writer, identity.ClientAddress, PeerLimits.MaxAddressBytes, "client address");
    }

    public static PeerIdentity Read(ref PeerPayloadReader reader)
    {
        string nodeId = reader.ReadString("node id", PeerLimits.MaxNameBytes);
        string datacenter = reader.ReadString("datacenter", PeerLimits.MaxNameBytes);
        string rack = reader.ReadString("rack", PeerLimits.MaxNameBytes);
        string clientAddress = reader.ReadString("client address", PeerLimits.MaxAddressBytes);
        if (nodeId.Length == 0)
        {
            throw new PeerProtocolException("peer identity: the node id is empty");
        }

        return new PeerIdentity(nodeId, datacenter, rack, clientAddress);
    }
}
