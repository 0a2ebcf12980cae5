using System.Net.Security;
using System.Security.Authentication;
using Dynamite.Server.Configuration;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Dynamite.Server.Hosting;

/// <summary>
/// The TLS port as redis-server's TLS settings describe it: the certificate and its chain (reloaded, <see cref="ReloadingCertificates"/>),
/// client certificates required, optional or not asked for (<c>tls-auth-clients</c>), the accepted versions
/// (<c>tls-protocols</c>) and TLSv1.3 suites (<c>tls-ciphersuites</c>). A handshake that fails (garbage, a plaintext
/// client, a certificate from another CA) closes that connection only.
/// </summary>
internal static class ClientTlsOptions
{
    /// <summary>How long a client gets to finish its handshake.</summary>
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    public static TlsHandshakeCallbackOptions Build(NodeConfiguration configuration, ReloadingCertificates certificates)
    {
        SslProtocols protocols = ParseProtocols(configuration.TlsProtocols);
        CipherSuitesPolicy? suites = ParseCipherSuites(configuration.TlsCipherSuites);
        string mode = configuration.TlsAuthClients;
        return new TlsHandshakeCallbackOptions
        {
            HandshakeTimeout = HandshakeTimeout,
            OnConnection = _ =>
            {
                var options = new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = certificates.Current,
                    EnabledSslProtocols = protocols,
                    ClientCertificateRequired = mode != "no",
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, certificate, chain, errors) => mode switch
                    {
                        "no" => true,
                        _ when certificate is null => mode == "optional",
                        _ => certificates.ValidateClient(certificate as X509Certificate2 ?? new X509Certificate2(certificate), chain, errors),
                    },
                };
                if (suites is not null && !OperatingSystem.IsWindows())
                {
                    options.CipherSuitesPolicy = suites;
                }

                return ValueTask.FromResult(options);
            },
        };
    }

    /// <summary>HTTPS for the admin API: the node's certificate and TLS versions, no client certificate asked for.</summary>
    public static TlsHandshakeCallbackOptions BuildServerOnly(NodeConfiguration configuration, ReloadingCertificates certificates)
    {
        SslProtocols protocols = ParseProtocols(configuration.TlsProtocols);
        return new TlsHandshakeCallbackOptions
        {
            HandshakeTimeout = HandshakeTimeout,
            OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = certificates.Current,
                EnabledSslProtocols = protocols,
                ClientCertificateRequired = false,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }),
        };
    }

    /// <summary><c>tls-protocols</c>: "TLSv1.2", "TLSv1.3" or both, space-separated.</summary>
    public static SslProtocols ParseProtocols(string text)
    {
        SslProtocols protocols = SslProtocols.None;
        foreach (string name in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            protocols |= name.ToUpperInvariant() switch
            {
                "TLSV1.2" => SslProtocols.Tls12,
                "TLSV1.3" => SslProtocols.Tls13,
                _ => throw new ConfigurationException($"--tls-protocols: '{name}' is not TLSv1.2 or TLSv1.3."),
            };
        }

        return protocols == SslProtocols.None ? throw new ConfigurationException("--tls-protocols names no protocol.") : protocols;
    }

    /// <summary><c>tls-ciphersuites</c>: colon-separated IANA names of TLSv1.3 suites; null (the system's) when empty.</summary>
    public static CipherSuitesPolicy? ParseCipherSuites(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (OperatingSystem.IsWindows())
        {
            throw new ConfigurationException("--tls-ciphersuites: Windows chooses TLS cipher suites itself; leave it empty there.");
        }

        var suites = new List<TlsCipherSuite>();
        foreach (string name in text.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            suites.Add(Enum.TryParse(name, ignoreCase: false, out TlsCipherSuite suite) && name.StartsWith("TLS_", StringComparison.Ordinal)
                ? suite
                : throw new ConfigurationException($"--tls-ciphersuites: '{name}' is not a TLS cipher suite name (such as TLS_AES_256_GCM_SHA384)."));
        }

        return new CipherSuitesPolicy(suites);
    }
}
