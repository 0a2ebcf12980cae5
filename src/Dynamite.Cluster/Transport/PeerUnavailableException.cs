namespace Dynamite.Cluster.Transport;

/// <summary>
/// The peer cannot be reached: a connect failed, the connection dropped with the request in flight, or the
/// client is waiting out its reconnect back-off. The request may or may not have been applied.
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
}
