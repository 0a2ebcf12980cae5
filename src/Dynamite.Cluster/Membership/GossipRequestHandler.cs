using Dynamite.Cluster.Transport;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Cluster.Membership;

/// <summary>The gossip and join messages (50–53) go to the membership; everything else to the next handler.</summary>
public sealed class GossipRequestHandler(GossipMembership membership, IPeerRequestHandler next) : IPeerRequestHandler
{
    public ValueTask HandleAsync(PeerIncomingRequest request, IPeerReplySink reply, CancellationToken connectionClosed)
    {
        ArgumentNullException.ThrowIfNull(reply);
        IPeerPayload message;
        switch (request.Type)
        {
            case PeerMessageType.GossipDigest:
                message = request.Read<GossipDigest>();
                break;
            case PeerMessageType.GossipState:
                message = request.Read<GossipState>();
                break;
            case PeerMessageType.JoinRequest:
                message = request.Read<JoinRequest>();
                break;
            default:
                return next.HandleAsync(request, reply, connectionClosed);
        }

        IPeerPayload answer;
        try
        {
            answer = membership.Handle(message);
        }
        catch (FormatException exception)
        {
            answer = ErrorMessage.Create(PeerErrorCode.MalformedPayload, exception.Message);
        }

        reply.Reply(request.RequestId, answer);
        return ValueTask.CompletedTask;
    }
}
