using Dynamite.Cluster.Transport;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Simulation;

/// <summary>
/// The peer listener's dispatch for the simulated network: each request goes to the node's router, and requests of a
/// type the router serves in runs (a replica's puts) are handed over in runs, as a real connection hands over the
/// frames of one read (<see cref="IPeerRequestHandler.HandleRunAsync"/>). Here a run is what one sender delivered at
/// one instant of simulated time: an event after that instant's deliveries hands it over. A request of another type
/// (or a second copy of a request, which only the network's duplication fault makes) hands the sender's pending run
/// over first, so each sender's requests reach the router in the order they arrived, as on a connection.
/// <para>One per process start: a crash drops the events that would hand runs over, and the next start makes a new one.
/// Without <paramref name="gatherRuns"/> every request is served alone (<see cref="SimulationOptions.PeerRequestRuns"/>).</para>
/// </summary>
internal sealed class SimulatedRequestDispatch(IPeerRequestHandler router, SimulatedProcess process, SimulatedNetwork network, bool gatherRuns)
{
    /// <summary>The runs being gathered, by sender node id.</summary>
    private readonly Dictionary<string, Run> _pending = [];

    /// <summary>Serves <paramref name="request"/>; <paramref name="reply"/> sends the encoded reply back to its sender.</summary>
    public void Serve(PeerIncomingRequest request, Action<PeerMessageType, byte[]> reply)
    {
        string sender = request.Remote.NodeId;
        _pending.TryGetValue(sender, out Run? run);
        if (!gatherRuns || !router.ServesRuns(request.Type))
        {
            if (run is not null)
            {
                HandOver(sender, run);
            }

            _ = ServeOneAsync(request, new ReplySink(new Dictionary<ulong, Action<PeerMessageType, byte[]>> { [request.RequestId] = reply }));
            return;
        }

        if (run is not null
            && (run.Type != request.Type || run.Replies.ContainsKey(request.RequestId) || run.Requests.Count == PeerTransportOptions.MaxRequestRunLength))
        {
            HandOver(sender, run);
            run = null;
        }

        if (run is null)
        {
            run = new Run(request.Type);
            _pending.Add(sender, run);
            Run gathered = run;
            process.After(0, () => HandOver(sender, gathered));
        }

        run.Requests.Add(request);
        run.Replies.Add(request.RequestId, reply);
    }

    private void HandOver(string sender, Run run)
    {
        if (!_pending.TryGetValue(sender, out Run? current) || !ReferenceEquals(current, run))
        {
            // Handed over already, when a request of another type arrived.
            return;
        }

        _pending.Remove(sender);
        var sink = new ReplySink(run.Replies);
        if (run.Requests.Count == 1)
        {
            _ = ServeOneAsync(run.Requests[0], sink);
            return;
        }

        network.CountRun(run.Requests.Count);
        _ = ServeRunAsync([.. run.Requests], sink);
    }

    private async Task ServeOneAsync(PeerIncomingRequest request, ReplySink sink)
    {
        try
        {
            await router.HandleAsync(request, sink, CancellationToken.None);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The listener's rule: a handler that throws is answered with an Error reply.
            sink.Reply(request.RequestId, ErrorMessage.Create(PeerErrorCode.Internal, exception.Message));
        }
    }

    private async Task ServeRunAsync(PeerIncomingRequest[] requests, ReplySink sink)
    {
        try
        {
            await router.HandleRunAsync(requests, sink, CancellationToken.None);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A run handler throws only before it answered any of them: each gets an Error reply, as on a connection.
            foreach (PeerIncomingRequest request in requests)
            {
                sink.Reply(request.RequestId, ErrorMessage.Create(PeerErrorCode.Internal, exception.Message));
            }
        }
    }

    private sealed class Run(PeerMessageType type)
    {
        public PeerMessageType Type { get; } = type;

        public List<PeerIncomingRequest> Requests { get; } = [];

        public Dictionary<ulong, Action<PeerMessageType, byte[]>> Replies { get; } = [];
    }

    /// <summary>Hands a handler's replies back to the network, encoded as on the wire, each to its own request's sender.</summary>
    private sealed class ReplySink(Dictionary<ulong, Action<PeerMessageType, byte[]>> replies) : IPeerReplySink
    {
        public bool Reply<TPayload>(ulong requestId, TPayload payload)
            where TPayload : IPeerPayload
        {
            var writer = new System.Buffers.ArrayBufferWriter<byte>(Math.Max(1, payload.PayloadLength));
            payload.Write(writer);
            replies[requestId](payload.Type, writer.WrittenSpan.ToArray());
            return true;
        }
    }
}
