using System.Security.Cryptography.X509Certificates;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// Copies of what a peer presented in its TLS handshake: its certificate and the chain certificates it sent (an
/// intermediate CA, say). Kept by the connection so a later trust check needs neither the TLS stream (which may be
/// closed under it) nor the peer to send them again.
/// </summary>
public sealed class PresentedCertificates
{
    private PresentedCertificates(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chain)
    {
        Certificate = certificate;
        Chain = chain;
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>The other certificates of the peer's chain, as it sent them.</summary>
    public IReadOnlyList<X509Certificate2> Chain { get; }

    /// <summary>Copies the handshake's certificate and chain (both are the TLS layer's to dispose).</summary>
    public static PresentedCertificates Copy(X509Certificate certificate, X509Chain? chain)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        X509Certificate2 leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var extra = new List<X509Certificate2>();
        if (chain is not null)
        {
            foreach (X509ChainElement element in chain.ChainElements)
            {
                if (element.Certificate.Thumbprint != leaf.Thumbprint)
                {
                    extra.Add(X509CertificateLoader.LoadCertificate(element.Certificate.RawData));
                }
            }
        }

        return new PresentedCertificates(leaf, extra);
    }
}
