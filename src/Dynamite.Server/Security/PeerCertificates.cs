using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Dynamite.Cluster.Transport;
using Dynamite.Server.Hosting;

namespace Dynamite.Server.Security;

/// <summary>
/// The node's certificates for mutual TLS between peers (<c>--peer-tls</c>): the node certificate of
/// <c>--tls-cert-file</c>, and trust in the CAs of <c>--tls-ca-cert-file</c>. A peer passes when its certificate chains
/// to one of them and is a node certificate (<see cref="ClusterCertificates.NodeIdentityOf"/>); the transport then checks
/// the cluster and node it names. The files are polled every second, not only on a handshake, because peer connections
/// live long: a CA dropped from the file must close the connections it alone trusted, and a new node certificate must
/// replace the connections that present the old one.
/// </summary>
internal sealed class PeerCertificates : IPeerCertificates, IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private readonly ReloadingCertificates _files;
    private readonly ITimer _poll;

    /// <summary>Loads the files; throws a ConfigurationException when they are not a node certificate of <paramref name="nodeId"/> in <paramref name="cluster"/>.</summary>
    public PeerCertificates(ReloadingCertificates files, string cluster, string nodeId, TimeProvider clock)
    {
        _files = files;
        _files.Load();
        // Fail at start, not at every peer's refusal: the node's own certificate must be what its peers will accept.
        (string Cluster, string Name)? own = ClusterCertificates.NodeIdentityOf(_files.Current.TargetCertificate);
        if (own != (cluster, nodeId))
        {
            throw new Configuration.ConfigurationException(own is { } named
                ? $"--peer-tls: --tls-cert-file is the certificate of node '{named.Name}' of cluster '{named.Cluster}', but this is node '{nodeId}' of cluster '{cluster}' (--node-id, --cluster-name)."
                : $"--peer-tls: --tls-cert-file is not a node certificate ({_files.Current.TargetCertificate.Subject}); issue one with `dynamite certs issue {nodeId}`.");
        }

        _files.Changed += (_, change) => Changed?.Invoke(this, change);
        _poll = clock.CreateTimer(static state => ((PeerCertificates)state!).CheckFiles(), this, PollInterval, PollInterval);
    }

    public event EventHandler<PeerCertificatesChangedEventArgs>? Changed;

    public SslStreamCertificateContext Local => _files.Current;

    public PeerCertificateCheck Check(PresentedCertificates presented)
    {
        ArgumentNullException.ThrowIfNull(presented);
        X509Certificate2 certificate = presented.Certificate;
        if (_files.Validate(certificate, presented.Chain, peer: true) is { } failure)
        {
            return PeerCertificateCheck.Refused($"its certificate ({certificate.Subject}) is not trusted: {failure}");
        }

        return ClusterCertificates.NodeIdentityOf(certificate) is { } node
            ? PeerCertificateCheck.Node(node.Cluster, node.Name)
            : PeerCertificateCheck.Refused($"its certificate ({certificate.Subject}) is not a node certificate (dynamite certs issue NODE)");
    }

    /// <summary>Reads the files again if they changed, raising <see cref="Changed"/> when they did (the poll's work).</summary>
    public void CheckFiles() => _files.Refresh();

    public void Dispose() => _poll.Dispose();
}
