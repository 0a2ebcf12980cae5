using Dynamite.Core.Peer;

namespace Dynamite.Cluster.Transport;

/// <summary>A frame queued for a connection's writer loop; the payload is encoded straight into the socket's pipe.</summary>
internal readonly record struct PeerOutgoingFrame(PeerMessageType Type, ulong RequestId, IPeerPayload Payload);
