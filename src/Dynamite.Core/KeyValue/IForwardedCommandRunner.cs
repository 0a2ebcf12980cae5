namespace Dynamite.Core.KeyValue;

/// <summary>
/// Runs a client command that another node forwarded here (a write of a key this node coordinates and that one does
/// not), through this node's front end as if its client were connected here, and returns the reply as RESP bytes of
/// the client's protocol version. The host provides it (the RESP front end); a node without one refuses forwards.
/// </summary>
public interface IForwardedCommandRunner
{
    /// <param name="arguments">The command as the client sent it, its name first.</param>
    /// <param name="protocolVersion">The client's RESP version (2 or 3).</param>
    /// <param name="consistency">The client connection's consistency level (null: this node's defaults).</param>
    /// <param name="cancellationToken">Cancelled when the forwarding connection closes.</param>
    ValueTask<byte[]> RunAsync(IReadOnlyList<byte[]> arguments, int protocolVersion, Quorum.ConsistencyLevel? consistency, CancellationToken cancellationToken);
}
