namespace Dynamite.Cluster.Transport;

/// <summary>
/// Makes the client for a peer address: TCP with the handshake in a server (<see cref="TcpPeerConnector"/>), the
/// simulated network in the simulation. The client connects lazily, on its first request.
/// </summary>
public interface IPeerConnector
{
    /// <summary>A client for <paramref name="address"/> (HOST:PORT); throws FormatException for a malformed one.</summary>
    IPeerClient Connect(string address);
}
