using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dynamite.Cluster.Transport;
using Microsoft.Extensions.Logging;

namespace Dynamite.Server.Hosting;

/// <summary>
/// The TLS port's certificate and the CAs client certificates must chain to, read from PEM files and read again when a
/// file changes (its time or size), checked at most once a second on a handshake: a rotated certificate is used for the
/// next connection, without a restart, while open connections keep theirs. A file caught half-written fails to load;
/// the certificates loaded before stay in use and the failure is logged, so a rotation never takes the port down.
/// <see cref="Changed"/> tells who holds long-lived connections (the peer transport) what a reload changed.
/// </summary>
internal sealed class ReloadingCertificates(string certFile, string keyFile, string? caFile, TimeProvider clock, ILogger logger)
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");
    private readonly Lock _lock = new();
    private X509Certificate2? _certificate;
    private SslStreamCertificateContext? _context;
    private X509Certificate2Collection _authorities = [];
    private (DateTime, long, DateTime, long, DateTime, long) _stamp;
    private DateTimeOffset _checkedAt = DateTimeOffset.MinValue;

    /// <summary>
    /// The certificate to present now, with the intermediate certificates that follow it in the file (sent in the
    /// handshake, so clients that trust only the root verify it). Throws when none could ever be loaded.
    /// </summary>
    public SslStreamCertificateContext Current
    {
        get
        {
            Refresh();
            return _context ?? throw new InvalidOperationException($"No TLS certificate could be loaded from {certFile} and {keyFile}.");
        }
    }

    /// <summary>Raised, outside any lock, after a reload changed this node's certificate or the trusted CAs.</summary>
    public event EventHandler<PeerCertificatesChangedEventArgs>? Changed;

    /// <summary>
    /// The client certificate check: it chains to one of the configured CAs, is within its validity and is meant for
    /// client authentication; nothing is downloaded while checking (a certificate must not make the node fetch a URL).
    /// </summary>
    public bool ValidateClient(X509Certificate2 certificate, X509Chain? presentedChain, SslPolicyErrors errors)
    {
        string? failure = Validate(certificate, presentedChain?.ChainElements.Select(e => e.Certificate) ?? [], peer: false);
        if (failure is not null)
        {
            logger.LogWarning("Refused a TLS client certificate ({Subject}): {Status}", certificate.Subject, failure);
        }

        return failure is null;
    }

    /// <summary>
    /// Null when <paramref name="certificate"/> chains to a configured CA, is within its validity and is meant for client
    /// authentication (and, for a <paramref name="peer"/>, server authentication too, as node certificates are); else why not.
    /// </summary>
    public string? Validate(X509Certificate2 certificate, IEnumerable<X509Certificate2> presentedChain, bool peer)
    {
        Refresh();
        X509Certificate2Collection authorities;
        lock (_lock)
        {
            authorities = _authorities;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        if (peer)
        {
            chain.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        }

        chain.ChainPolicy.VerificationTime = clock.GetLocalNow().DateTime;
        foreach (X509Certificate2 presented in presentedChain)
        {
            chain.ChainPolicy.ExtraStore.Add(presented);
        }

        return chain.Build(certificate)
            ? null
            : string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty("it does not chain to a trusted CA"));
    }

    /// <summary>Loads the files now (at start, so a bad file stops the node with a clear error).</summary>
    public void Load()
    {
        _checkedAt = DateTimeOffset.MinValue;
        Refresh();
        _ = Current;
    }

    /// <summary>Reads the files again if they changed (at most once per second), raising <see cref="Changed"/> when they did.</summary>
    public void Refresh()
    {
        PeerCertificatesChangedEventArgs? change = ReloadIfChanged();
        if (change is null || Changed is not { } handlers)
        {
            return;
        }

        // Each listener alone: one that throws must neither keep the others from hearing of the change nor escape a
        // timer callback (which would end the process).
        foreach (EventHandler<PeerCertificatesChangedEventArgs> handler in handlers.GetInvocationList().Cast<EventHandler<PeerCertificatesChangedEventArgs>>())
        {
            try
            {
                handler(this, change);
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "A listener of the certificate change failed");
            }
        }
    }

    private PeerCertificatesChangedEventArgs? ReloadIfChanged()
    {
        DateTimeOffset now = clock.GetUtcNow();
        lock (_lock)
        {
            if (now - _checkedAt < CheckInterval && _certificate is not null)
            {
                return null;
            }

            _checkedAt = now;
            try
            {
                (DateTime, long, DateTime, long, DateTime, long) stamp = (Stamp(certFile), Length(certFile), Stamp(keyFile), Length(keyFile),
                    caFile is null ? default : Stamp(caFile), caFile is null ? 0 : Length(caFile));
                if (stamp == _stamp && _certificate is not null)
                {
                    return null;
                }

                X509Certificate2 certificate = X509Certificate2.CreateFromPemFile(certFile, keyFile);
                X509Certificate2Collection chain = [];
                chain.ImportFromPemFile(certFile);
                X509Certificate2Collection intermediates = [.. chain.Where(c => c.Thumbprint != certificate.Thumbprint)];
                SslStreamCertificateContext context = SslStreamCertificateContext.Create(certificate, intermediates, offline: true);
                X509Certificate2Collection authorities = [];
                if (caFile is not null)
                {
                    authorities.ImportFromPemFile(caFile);
                    if (authorities.Count == 0)
                    {
                        // Trusting nobody is never meant: most likely a bad edit (two PEM files joined without a newline).
                        throw new CryptographicException($"{caFile} holds no PEM certificate (-----BEGIN CERTIFICATE----- on a line of its own)");
                    }
                }

                bool reloaded = _certificate is not null;
                bool localChanged = reloaded && certificate.Thumbprint != _certificate!.Thumbprint;
                bool trustChanged = reloaded && !Thumbprints(authorities).SetEquals(Thumbprints(_authorities));
                _certificate = certificate;
                _context = context;
                _authorities = authorities;
                _stamp = stamp;
                if (reloaded)
                {
                    logger.LogInformation("Reloaded the TLS certificate ({Subject}, expires {Expiry:u}) and {Count} CA certificate(s)",
                        certificate.Subject, certificate.NotAfter.ToUniversalTime(), authorities.Count);
                }

                return localChanged || trustChanged ? new PeerCertificatesChangedEventArgs(localChanged, trustChanged) : null;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                if (_certificate is null)
                {
                    throw new Configuration.ConfigurationException($"The TLS certificate could not be loaded ({certFile}, {keyFile}{(caFile is null ? "" : ", " + caFile)}): {exception.Message}");
                }

                logger.LogWarning("Keeping the TLS certificate in use: the changed files could not be loaded: {Reason}", exception.Message);
                return null;
            }
        }
    }

    private static HashSet<string> Thumbprints(X509Certificate2Collection certificates) => [.. certificates.Select(c => c.Thumbprint)];

    private static DateTime Stamp(string path) => File.GetLastWriteTimeUtc(path);

    private static long Length(string path) => File.Exists(path) ? new FileInfo(path).Length : -1;
}
