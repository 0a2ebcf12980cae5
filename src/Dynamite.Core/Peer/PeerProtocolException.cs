namespace Dynamite.Core.Peer;

/// <summary>
/// Bytes from a peer that do not form a valid frame or payload. The stream position after such an error is
/// unknown, so the connection that produced it is closed.
/// </summary>
public sealed class PeerProtocolException : Exception
{
    public PeerProtocolException(string message)
        : base(message)
    {
    }

    public PeerProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
