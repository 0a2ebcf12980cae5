namespace Dynamite.Cluster.Transport;

/// <summary>
/// A peer certificate checked: the cluster and node it names when it chains to a trusted CA and is a node's
/// certificate, else why it is refused (<see cref="Failure"/>).
/// </summary>
public readonly record struct PeerCertificateCheck(string? Cluster, string? NodeId, string? Failure)
{
    public static PeerCertificateCheck Refused(string reason) => new(null, null, reason);

    public static PeerCertificateCheck Node(string cluster, string nodeId) => new(cluster, nodeId, null);

    /// <summary>Null when it proves a node of <paramref name="clusterName"/>; else the reason for refusing it.</summary>
    public string? RefusalFor(string clusterName) =>
        Failure ?? (string.Equals(Cluster, clusterName, StringComparison.Ordinal)
            ? null
            : $"the certificate names node '{NodeId}' of cluster '{Cluster}', not of '{clusterName}'");
}
