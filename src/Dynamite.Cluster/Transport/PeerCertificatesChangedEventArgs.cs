namespace Dynamite.Cluster.Transport;

/// <summary>What changed in <see cref="IPeerCertificates"/>: this node's certificate, the trusted CAs, or both.</summary>
public sealed class PeerCertificatesChangedEventArgs(bool localChanged, bool trustChanged) : EventArgs
{
    /// <summary>This node presents another certificate from now on: its outgoing connections are replaced, so peers see it.</summary>
    public bool LocalChanged { get; } = localChanged;

    /// <summary>Other CAs are trusted from now on: a connection whose peer no longer passes is closed.</summary>
    public bool TrustChanged { get; } = trustChanged;
}
