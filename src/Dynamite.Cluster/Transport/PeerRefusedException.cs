namespace Dynamite.Cluster.Transport;

/// <summary>
/// The handshake failed: the remote node refused this one (another cluster name, a wrong secret) or failed to
/// prove the cluster secret itself. <see cref="Exception.Message"/> is the reason.
/// </summary>
public sealed class PeerRefusedException(string reason) : Exception(reason);
