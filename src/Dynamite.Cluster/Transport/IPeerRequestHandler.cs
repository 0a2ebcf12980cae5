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
}
