namespace Dynamite.Core.Peer;

/// <summary>Who a peer is, as it presented itself in the handshake: node id and its place in the topology.</summary>
public sealed record PeerIdentity(string NodeId, string Datacenter, string Rack)
{
    public override string ToString() => $"{NodeId} ({Datacenter}/{Rack})";
}
