using System.Net.Security;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// The certificates of mutual TLS between peers: this node's own, presented at both ends of its connections, and the
/// check of a peer's (it chains to a trusted cluster CA and names a node of a cluster). Both may change while the node
/// runs (rotation); <see cref="Changed"/> tells the open connections, which then check their peer again.
/// </summary>
public interface IPeerCertificates
{
    /// <summary>This node's certificate with its chain, as presented now.</summary>
    SslStreamCertificateContext Local { get; }

    /// <summary>What a peer's certificates prove, checked against the CAs trusted now; nothing is downloaded.</summary>
    PeerCertificateCheck Check(PresentedCertificates presented);

    /// <summary>Raised, on any thread, after this node's certificate or the trusted CAs changed.</summary>
    event EventHandler<PeerCertificatesChangedEventArgs>? Changed;
}
