using System.Buffers;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Peer;

namespace Dynamite.Simulation;

/// <summary>
/// The production <see cref="IPeerClient"/> seam over the simulated network: a request is encoded as on the wire,
/// travels the link from this node to the node at the address (delay, loss, duplication, reordering, partitions),
/// is decoded there and served by that node's real request router, and its reply travels back. A request
/// unanswered within its timeout fails with <see cref="TimeoutException"/>; a node that is down refuses the
/// connection (<see cref="PeerUnavailableException"/>) unless the link is cut, when the request just times out.
/// Every callback runs as an event of the sending node's process, and none outlives a crash of that process.
/// </summary>
public sealed class SimulatedPeerClient : IPeerClient
{
    private readonly SimulatedNode _from;
    private readonly string _address;
    private readonly SimulatedCluster _cluster;
    private ulong _lastRequestId;

    public SimulatedPeerClient(SimulatedNode from, string address, SimulatedCluster cluster)
    {
        _from = from;
        _address = address;
        _cluster = cluster;
    }

    public PeerIdentity? RemoteIdentity { get; private set; }

    public Task<PeerResponse> SendAsync(IPeerPayload request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var response = new ResponseTask();
        if (cancellationToken.CanBeCanceled)
        {
            response.Registration = cancellationToken.Register(static state => ((ResponseTask)state!).TrySetCanceled(), response);
        }

        Send(request, timeout, response);
        return response.Task;
    }

    public void Send(IPeerPayload request, TimeSpan timeout, IPeerResponseCallback callback, TimeSpan? slowAfter = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(callback);
        var writer = new ArrayBufferWriter<byte>(Math.Max(1, request.PayloadLength));
        request.Write(writer);
        byte[] payload = writer.WrittenSpan.ToArray();
        ulong requestId = ++_lastRequestId;
        var exchange = new Exchange(callback);
        SimulatedProcess process = _from.Process;
        process.After((long)Math.Ceiling(timeout.TotalMilliseconds), () => exchange.Fail(new TimeoutException($"no reply from {_address} to {request.Type} within {timeout.TotalMilliseconds} ms")));
        if (slowAfter is { } slow)
        {
            process.After((long)Math.Ceiling(slow.TotalMilliseconds), exchange.Slow);
        }

        if (_cluster.NodeAt(_address) is not { } target)
        {
            process.After(_cluster.Network.MinimumDelayMs, () => exchange.Fail(new PeerUnavailableException($"nothing listens at {_address}")));
            return;
        }

        SimulatedNetwork network = _cluster.Network;
        if (!target.Process.IsUp)
        {
            // The process is gone but its machine answers: the connection is refused, unless the link is cut too.
            if (!network.IsBlocked(_from.Id, target.Id))
            {
                process.After(network.MinimumDelayMs, () => exchange.Fail(new PeerUnavailableException($"{target.Id} refused the connection")));
            }

            return;
        }

        int replyEpoch = process.Epoch;
        int targetEpoch = target.Process.Epoch;
        PeerMessageType type = request.Type;

        void Reply(PeerMessageType replyType, byte[] replyPayload) =>
            network.Send(target.Id, _from.Id, () => process.Run(replyEpoch, () =>
            {
                RemoteIdentity = target.Identity;
                exchange.Respond(new PeerResponse(replyType, requestId, replyPayload, target.Identity));
            }));

        network.Send(_from.Id, target.Id, () => target.Process.Run(targetEpoch, () => target.Serve(type, requestId, payload, _from.Identity, Reply)));
    }

    /// <summary>One request's outcome: the first of reply, failure or timeout wins; a duplicate reply is ignored.</summary>
    private sealed class Exchange(IPeerResponseCallback callback)
    {
        private bool _settled;

        public void Respond(PeerResponse response)
        {
            if (!_settled)
            {
                _settled = true;
                callback.OnResponse(response);
            }
        }

        public void Fail(Exception error)
        {
            if (!_settled)
            {
                _settled = true;
                callback.OnFailure(error);
            }
        }

        public void Slow()
        {
            if (!_settled)
            {
                callback.OnSlow();
            }
        }
    }

    /// <summary>A task-shaped callback for <see cref="SendAsync"/>; continuations run in the awaiting process's events.</summary>
    private sealed class ResponseTask() : TaskCompletionSource<PeerResponse>(TaskCreationOptions.RunContinuationsAsynchronously), IPeerResponseCallback
    {
        public CancellationTokenRegistration Registration { get; set; }

        public void OnResponse(PeerResponse response)
        {
            Registration.Dispose();
            TrySetResult(response);
        }

        public void OnFailure(Exception error)
        {
            Registration.Dispose();
            TrySetException(error);
        }
    }
}
