namespace Dynamite.Cluster.Transport;

/// <summary>
/// The peer cannot be reached: a connect failed, the connection dropped with the request in flight, or the
/// client is waiting out its reconnect back-off. The request may or may not have been applied (<see cref="NotSent"/>
/// says when it certainly was not).
/// </summary>
public sealed class PeerUnavailableException : Exception
{
    public PeerUnavailableException(string message)
        : base(message)
    {
    }

    public PeerUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// True when the request was certainly not sent (no connection could be made to send it on), so it was not applied
    /// and may be sent to another node; false when it may have reached the peer.
    /// </summary>
    public bool NotSent { get; init; }
}
