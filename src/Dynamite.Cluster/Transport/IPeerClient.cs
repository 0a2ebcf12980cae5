using Dynamite.Core.Peer;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// Requests to one remote node. The seam coordinators and gossip use, so that a simulated network can stand in
/// for TCP (<see cref="PeerClient"/> is the real one).
/// </summary>
public interface IPeerClient
{
    /// <summary>The remote node as it proved itself in the last successful handshake; null before the first.</summary>
    PeerIdentity? RemoteIdentity { get; }

    /// <summary>
    /// Sends one request and returns its reply. Throws <see cref="TimeoutException"/> when no reply came within
    /// <paramref name="timeout"/> (waiting for a free in-flight slot and connecting count against it),
    /// <see cref="PeerUnavailableException"/> when the peer cannot be reached or the connection dropped,
    /// <see cref="PeerRefusedException"/> when the handshake failed, and OperationCanceledException when
    /// <paramref name="cancellationToken"/> fired.
    /// </summary>
    Task<PeerResponse> SendAsync(IPeerPayload request, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends one request and reports its reply or failure to <paramref name="callback"/> (the same failures as
    /// <see cref="SendAsync"/>). Never throws; the callback may run before this returns. With
    /// <paramref name="slowAfter"/>, a request still unanswered by then is reported to
    /// <see cref="IPeerResponseCallback.OnSlow"/> first (best effort: a request that had to wait for a connection
    /// or an in-flight slot is not).
    /// </summary>
    void Send(IPeerPayload request, TimeSpan timeout, IPeerResponseCallback callback, TimeSpan? slowAfter = null);
}
