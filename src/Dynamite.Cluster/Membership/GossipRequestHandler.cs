using Dynamite.Cluster.Transport;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Cluster.Membership;

/// <summary>The gossip and join requests (50–52): answered by the membership.</summary>
public sealed class GossipRequestHandler(GossipMembership membership) : IPeerService
{
    public IReadOnlyList<PeerMessageType> Serves { get; } = [PeerMessageType.GossipDigest, PeerMessageType.GossipState, PeerMessageType.JoinRequest];

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
                throw new ArgumentException($"{request.Type} is not a gossip request", nameof(request));
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
