using Dynamite.Core.Peer;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// A node service that answers some peer requests (the replica store, the coordinator, anti-entropy, gossip).
/// The <see cref="PeerRequestRouter"/> hands it exactly the types it names in <see cref="Serves"/>.
/// </summary>
public interface IPeerService : IPeerRequestHandler
{
    /// <summary>The request types this service owns; no other service may name them.</summary>
    IReadOnlyList<PeerMessageType> Serves { get; }
}
