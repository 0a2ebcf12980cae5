using Dynamite.Cluster.Transport;
using Dynamite.Core.Peer;

namespace Dynamite.Cluster.Tests.Transport;

/// <summary>A request handler that serves puts in runs with <paramref name="handleRun"/> and every other request with
/// <paramref name="handle"/>, recording the length of every run it was handed.</summary>
internal sealed class RunHandler(
    Func<PeerIncomingRequest, IPeerReplySink, ValueTask> handle,
    Func<IReadOnlyList<PeerIncomingRequest>, IPeerReplySink, ValueTask> handleRun) : IPeerRequestHandler
{
    private readonly List<int> _runLengths = [];

    public IReadOnlyList<int> RunLengths
    {
        get
        {
            lock (_runLengths)
            {
                return [.. _runLengths];
            }
        }
    }

    public ValueTask HandleAsync(PeerIncomingRequest request, IPeerReplySink reply, CancellationToken connectionClosed) =>
        handle(request, reply);

    public bool ServesRuns(PeerMessageType type) => type == PeerMessageType.ReplicaPut;

    public ValueTask HandleRunAsync(IReadOnlyList<PeerIncomingRequest> requests, IPeerReplySink reply, CancellationToken connectionClosed)
    {
        lock (_runLengths)
        {
            _runLengths.Add(requests.Count);
        }

        return handleRun(requests, reply);
    }
}
