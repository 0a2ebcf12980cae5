using Dynamite.Core.Peer;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// A request as the listener hands it to an <see cref="IPeerRequestHandler"/>. <see cref="Payload"/> is a pooled
/// buffer: valid until the handler's task completes, so a handler that keeps bytes longer copies them (decoding does).
/// <see cref="Remote"/> is the authenticated peer the request came from (it proved the cluster secret in the handshake).
/// </summary>
public readonly record struct PeerIncomingRequest(PeerMessageType Type, ulong RequestId, ReadOnlyMemory<byte> Payload, PeerIdentity Remote)
{
    /// <summary>Decodes the payload; throws <see cref="PeerProtocolException"/> when it is malformed or of another type.</summary>
    public T Read<T>()
        where T : IPeerMessage<T>
    {
        if (Type != T.MessageType)
        {
            throw new PeerProtocolException($"expected a {T.MessageType} request, got {Type}");
        }

        return T.Read(Payload.Span);
    }
}
