using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Dynamite.Cluster.Transport;

/// <summary>
/// The TLS layer of a peer connection when the cluster uses certificates (<see cref="PeerTransportOptions.Certificates"/>):
/// both ends present their node certificate, and each accepts the other only if it chains to a trusted CA and names a
/// node of this cluster. It runs before the peer handshake, which then also checks that the node the handshake names
/// is the node the certificate names, so a node cannot speak for another.
/// </summary>
internal static class PeerTls
{
    /// <summary>The client side: the remote node's certificates and their check, or a <see cref="PeerRefusedException"/>.</summary>
    public static async Task<(SslStream Stream, PresentedCertificates Presented, PeerCertificateCheck Remote)> AuthenticateAsClientAsync(
        Socket socket, EndPoint endpoint, PeerTransportOptions options, IPeerCertificates certificates, CancellationToken cancellationToken)
    {
        var check = new HandshakeCheck(certificates, options.ClusterName);
        var stream = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = endpoint switch
            {
                DnsEndPoint dns => dns.Host,
                IPEndPoint ip => ip.Address.ToString(),
                _ => "",
            },
            ClientCertificateContext = certificates.Local,
            EnabledSslProtocols = options.TlsProtocols,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            // Trust is the cluster CA's and the certificate's node identity, not the address it was reached at
            // (nodes are found by gossiped addresses, which a certificate need not list).
            RemoteCertificateValidationCallback = check.Accept,
        };
        try
        {
            await stream.AuthenticateAsClientAsync(authentication, cancellationToken);
        }
        catch (AuthenticationException exception)
        {
            await stream.DisposeAsync();
            throw new PeerRefusedException($"TLS with peer {endpoint} failed: {check.Refusal ?? exception.Message}");
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }

        return (stream, check.Presented ?? throw new PeerRefusedException("TLS completed without the peer's certificate"), check.Remote);
    }

    /// <summary>
    /// The server side: the connecting node's certificate check; a refused handshake throws <see cref="PeerRefusedException"/>
    /// with the reason (a missing certificate, another CA, another cluster, a client's certificate, garbage).
    /// </summary>
    public static async Task<(SslStream Stream, PresentedCertificates Presented, PeerCertificateCheck Remote)> AuthenticateAsServerAsync(
        Socket socket, PeerTransportOptions options, IPeerCertificates certificates, CancellationToken cancellationToken)
    {
        var check = new HandshakeCheck(certificates, options.ClusterName);
        var stream = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        var authentication = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = certificates.Local,
            ClientCertificateRequired = true,
            EnabledSslProtocols = options.TlsProtocols,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = check.Accept,
        };
        try
        {
            await stream.AuthenticateAsServerAsync(authentication, cancellationToken);
        }
        catch (Exception exception) when (exception is AuthenticationException or IOException)
        {
            // No refusal of ours: the bytes were not TLS (a node without --peer-tls, garbage) or the peer gave up.
            await stream.DisposeAsync();
            throw new PeerRefusedException(check.Refusal ?? $"no TLS handshake ({exception.Message})");
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }

        return (stream, check.Presented ?? throw new PeerRefusedException("TLS completed without the peer's certificate"), check.Remote);
    }

    /// <summary>The certificates a peer presented, checked again against the CAs trusted now; null when they still pass.</summary>
    public static string? Recheck(PresentedCertificates presented, PeerTransportOptions options, IPeerCertificates certificates) =>
        certificates.Check(presented).RefusalFor(options.ClusterName);

    /// <summary>One handshake's check of the peer's certificate (both sides'), and what it found, for the caller.</summary>
    private sealed class HandshakeCheck(IPeerCertificates certificates, string clusterName)
    {
        public PresentedCertificates? Presented { get; private set; }

        public PeerCertificateCheck Remote { get; private set; }

        /// <summary>Why the peer was refused; null while it passes (or was never checked: the bytes were not TLS).</summary>
        public string? Refusal { get; private set; }

        public bool Accept(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            Presented = certificate is null ? null : PresentedCertificates.Copy(certificate, chain);
            Remote = Presented is null ? PeerCertificateCheck.Refused("it presented no certificate") : certificates.Check(Presented);
            Refusal = Remote.RefusalFor(clusterName);
            return Refusal is null;
        }
    }
}
