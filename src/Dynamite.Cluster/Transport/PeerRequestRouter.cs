using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// Hands each peer request to the one service that owns its message type: a table indexed by the type byte,
/// built once. Construction fails unless every request type of <see cref="PeerMessages.ServiceRequests"/> has
/// exactly one owner and no service claims a type that is not such a request, so a message that nobody serves,
/// or that two services would both answer, is a start-up error rather than a runtime surprise. A type outside
/// the table (a newer node's message) gets an <see cref="PeerErrorCode.UnknownMessageType"/> reply.
/// </summary>
public sealed class PeerRequestRouter : IPeerRequestHandler
{
    private readonly IPeerService?[] _owners = new IPeerService?[256];

    public PeerRequestRouter(IEnumerable<IPeerService> services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var requests = new HashSet<PeerMessageType>(PeerMessages.ServiceRequests);
        foreach (IPeerService service in services)
        {
            foreach (PeerMessageType type in service.Serves)
            {
                if (!requests.Contains(type))
                {
                    throw new ArgumentException($"{service.GetType().Name} claims {type}, which is not a service request.", nameof(services));
                }

                if (_owners[(byte)type] is { } owner)
                {
                    throw new ArgumentException($"{type} has two owners: {owner.GetType().Name} and {service.GetType().Name}.", nameof(services));
                }

                _owners[(byte)type] = service;
            }
        }

        string[] unowned = [.. requests.Where(type => _owners[(byte)type] is null).Select(type => type.ToString())];
        if (unowned.Length > 0)
        {
            throw new ArgumentException($"No service owns {string.Join(", ", unowned)}.", nameof(services));
        }
    }

    /// <summary>The service that answers <paramref name="type"/>; null for a type no service owns.</summary>
    public IPeerService? OwnerOf(PeerMessageType type) => _owners[(byte)type];

    public ValueTask HandleAsync(PeerIncomingRequest request, IPeerReplySink reply, CancellationToken connectionClosed)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (_owners[(byte)request.Type] is { } owner)
        {
            return owner.HandleAsync(request, reply, connectionClosed);
        }

        reply.Reply(request.RequestId, ErrorMessage.Create(PeerErrorCode.UnknownMessageType, $"this node does not serve {request.Type} requests"));
        return ValueTask.CompletedTask;
    }

    public bool ServesRuns(PeerMessageType type) => _owners[(byte)type]?.ServesRuns(type) ?? false;

    public ValueTask HandleRunAsync(IReadOnlyList<PeerIncomingRequest> requests, IPeerReplySink reply, CancellationToken connectionClosed)
    {
        ArgumentNullException.ThrowIfNull(requests);
        PeerMessageType type = requests.Count > 0 ? requests[0].Type : default;
        return _owners[(byte)type] is { } owner && owner.ServesRuns(type)
            ? owner.HandleRunAsync(requests, reply, connectionClosed)
            : throw new NotSupportedException($"no service serves runs of {type} requests");
    }
}
