using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Cluster.Transport;

/// <summary>The peer answered a request with an Error reply.</summary>
public sealed class PeerRemoteException(PeerIdentity peer, PeerErrorCode code, string message)
    : Exception($"{peer} answered {code}: {message}")
{
    public PeerIdentity Peer { get; } = peer;

    public PeerErrorCode Code { get; } = code;
}
