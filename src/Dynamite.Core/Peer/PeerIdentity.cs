namespace Dynamite.Core.Peer;

/// <summary>
/// Who a peer is, as it presented itself in the handshake: node id, its place in the topology, and the address Redis
/// clients reach it at (empty when not said), which a node founding a cluster from its seeds writes into their records.
/// </summary>
public sealed record PeerIdentity(string NodeId, string Datacenter, string Rack, string ClientAddress = "")
{
    public override string ToString() => $"{NodeId} ({Datacenter}/{Rack})";
}
