using Dynamite.Core.Peer;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// The service behind a peer listener (the replica side of gets and puts). The transport knows frames, not
/// storage; this is the seam between them, and what an in-memory transport would call directly.
/// </summary>
public interface IPeerRequestHandler
{
    /// <summary>
    /// Serves one request and replies through <paramref name="reply"/> with the same request id. Runs on the
    /// connection's read loop until its first await, so it must not block. Many calls may be in flight on one
    /// connection and may finish in any order. A thrown exception is answered with an Error reply.
    /// <paramref name="connectionClosed"/> is cancelled when the connection or the listener closes.
    /// </summary>
    ValueTask HandleAsync(PeerIncomingRequest request, IPeerReplySink reply, CancellationToken connectionClosed);

    /// <summary>Whether requests of <paramref name="type"/> that arrive together may be served as one run
    /// (<see cref="HandleRunAsync"/>). None by default.</summary>
    bool ServesRuns(PeerMessageType type) => false;

    /// <summary>
    /// Serves two or more requests of one type that <see cref="ServesRuns"/> names and that arrived in one read of the
    /// connection, one after the other, as <see cref="HandleAsync"/> would serve each but together: a replica stores a
    /// run of puts in one storage operation, so the writer, the awaits and the acknowledgements are paid once per run
    /// rather than once per put. Every request gets exactly one reply; a handler throws only before it replied to any
    /// (the transport then answers each with an Error reply). The same threading rules as <see cref="HandleAsync"/>.
    /// </summary>
    ValueTask HandleRunAsync(IReadOnlyList<PeerIncomingRequest> requests, IPeerReplySink reply, CancellationToken connectionClosed) =>
        throw new NotSupportedException($"{GetType().Name} serves no runs of requests");
}
