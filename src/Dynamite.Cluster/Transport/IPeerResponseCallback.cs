namespace Dynamite.Cluster.Transport;

/// <summary>
/// Receives the outcome of one request sent with <see cref="IPeerClient.Send"/>: exactly one of the two calls,
/// exactly once. The hot replica reads and writes use this instead of a task per request, so a reply costs no
/// task, timer or thread-pool hop of its own.
/// </summary>
public interface IPeerResponseCallback
{
    /// <summary>
    /// The reply arrived. Runs on the connection's read loop, which every other reply on that connection waits
    /// for: do a little bookkeeping and hand anything slow to a task. Must not throw.
    /// </summary>
    void OnResponse(PeerResponse response);

    /// <summary>
    /// No reply: <see cref="TimeoutException"/>, <see cref="PeerUnavailableException"/>, <see cref="PeerRefusedException"/>
    /// or an over-limit payload's ArgumentException. May run on the sender's own stack (a connection already down),
    /// a timer, or the read loop. Must not throw.
    /// </summary>
    void OnFailure(Exception error);

    /// <summary>
    /// The request was sent with a "slow after" time and has had no reply by then; the request stays pending and
    /// one of the other two calls still follows. At most once; runs on the connection's sweep timer. Must not throw.
    /// </summary>
    void OnSlow()
    {
    }
}
