using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Cluster.Transport;

/// <summary>A reply received by a <see cref="PeerClient"/>. The payload is a private copy the caller owns.</summary>
public sealed record PeerResponse(PeerMessageType Type, ulong RequestId, ReadOnlyMemory<byte> Payload, PeerIdentity From)
{
    /// <summary>
    /// Decodes the expected reply type. An Error reply throws <see cref="PeerRemoteException"/>; any other type,
    /// or a malformed payload, throws <see cref="PeerProtocolException"/>.
    /// </summary>
    public T Read<T>()
        where T : IPeerMessage<T>
    {
        if (Type == T.MessageType)
        {
            return T.Read(Payload.Span);
        }

        if (Type == PeerMessageType.Error)
        {
            ErrorMessage error = ErrorMessage.Read(Payload.Span);
            throw new PeerRemoteException(From, error.Code, error.Message);
        }

        throw new PeerProtocolException($"expected a {T.MessageType} reply from {From}, got {Type}");
    }
}
