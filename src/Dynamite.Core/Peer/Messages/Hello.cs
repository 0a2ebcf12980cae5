using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Client → server, first frame of a connection: who the client is and a fresh nonce for the server to mix
/// into its proof. <paramref name="ProtocolVersion"/> is the highest version the client speaks (for a future
/// negotiation; today both sides must speak 1).
/// </summary>
public sealed record Hello(
    byte ProtocolVersion,
    string ClusterName,
    PeerIdentity Node,
    string AdvertisedAddress,
    ReadOnlyMemory<byte> ClientNonce) : IPeerMessage<Hello>
{
    public static PeerMessageType MessageType => PeerMessageType.Hello;

    public PeerMessageType Type => MessageType;

    public int PayloadLength =>
        1
        + PeerPayloadWriter.StringSize(ClusterName, PeerLimits.MaxNameBytes, nameof(ClusterName))
        + PeerIdentityCodec.Size(Node)
        + PeerPayloadWriter.StringSize(AdvertisedAddress, PeerLimits.MaxAddressBytes, nameof(AdvertisedAddress))
        + PeerHandshake.NonceBytes;

    public void Write(IBufferWriter<byte> writer)
    {
        if (ClientNonce.Length != PeerHandshake.NonceBytes)
        {
            throw new InvalidOperationException($"ClientNonce must be {PeerHandshake.NonceBytes} bytes");
        }

        PeerPayloadWriter.WriteByte(writer, ProtocolVersion);
        PeerPayloadWriter.WriteString(writer, ClusterName, PeerLimits.MaxNameBytes, nameof(ClusterName));
        PeerIdentityCodec.Write(writer, Node);
        PeerPayloadWriter.WriteString(writer, AdvertisedAddress, PeerLimits.MaxAddressBytes, nameof(AdvertisedAddress));
        PeerPayloadWriter.WriteFixed(writer, ClientNonce.Span);
    }

    public static Hello Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte version = reader.ReadByte("protocol version");
        string clusterName = reader.ReadString("cluster name", PeerLimits.MaxNameBytes);
        PeerIdentity node = PeerIdentityCodec.Read(ref reader);
        string address = reader.ReadString("advertised address", PeerLimits.MaxAddressBytes);
        byte[] nonce = reader.ReadFixed("client nonce", PeerHandshake.NonceBytes);
        reader.EnsureEnd();
        return new Hello(version, clusterName, node, address, nonce);
    }
}
