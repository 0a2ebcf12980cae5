using Dynamite.Cluster.Transport;

namespace Dynamite.Cluster.Tests.Transport;

/// <summary>A request handler made of a lambda, recording who each request came from.</summary>
internal sealed class DelegateHandler(Func<PeerIncomingRequest, IPeerReplySink, ValueTask> handle) : IPeerRequestHandler
{
    public ValueTask HandleAsync(PeerIncomingRequest request, IPeerReplySink reply, CancellationToken connectionClosed) =>
        handle(request, reply);
}
