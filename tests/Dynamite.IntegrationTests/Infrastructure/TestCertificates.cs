using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>A throwaway certificate authority and the certificates it issues, written as PEM files (what redis-cli and the node read).</summary>
internal sealed class TestCertificates : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    /// <summary>What follows an issued certificate in its file: an intermediate CA's own certificate, else nothing.</summary>
    private readonly string _chainPem;

    private TestCertificates(string directory, X509Certificate2 authority, string chainPem = "")
    {
        Directory = directory;
        Authority = authority;
        _chainPem = chainPem;
        AuthorityFile = Path.Combine(directory, "ca.pem");
        File.WriteAllText(AuthorityFile, authority.ExportCertificatePem());
    }

    public string Directory { get; }

    public X509Certificate2 Authority { get; }

    /// <summary>The CA certificate as PEM.</summary>
    public string AuthorityFile { get; }

    /// <summary>A new CA in a new temporary directory.</summary>
    public static TestCertificates CreateAuthority(string name)
    {
        (string directory, ECDsa _, CertificateRequest request) = AuthorityRequest(name);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        return new TestCertificates(directory, request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1)));
    }

    /// <summary>An intermediate CA signed by this one, in a directory of its own: certificates it issues carry it after them.</summary>
    public TestCertificates CreateIntermediate(string name)
    {
        (string directory, ECDsa key, CertificateRequest request) = AuthorityRequest(name);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 signed = request.Create(Authority, now.AddDays(-1), now.AddDays(100), RandomNumberGenerator.GetBytes(16));
        X509Certificate2 intermediate = signed.CopyWithPrivateKey(key);
        return new TestCertificates(directory, intermediate, intermediate.ExportCertificatePem());
    }

    /// <summary>A new directory and a CA's key and certificate request. The key is not disposed: the CA signs with it for as long as it lives.</summary>
    private static (string Directory, ECDsa Key, CertificateRequest Request) AuthorityRequest(string name)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"dynamite-certs-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return (directory, key, request);
    }

    /// <summary>Issues a certificate for 127.0.0.1 and localhost and writes NAME.pem and NAME.key; returns the two paths.</summary>
    public (string Certificate, string Key) Issue(string name, bool server, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([server ? ServerAuth : ClientAuth], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 issued = request.Create(Authority, now.AddDays(-1), notAfter ?? now.AddDays(30), RandomNumberGenerator.GetBytes(16));
        string certificateFile = Path.Combine(Directory, name + ".pem");
        string keyFile = Path.Combine(Directory, name + ".key");
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificateFile, issued.ExportCertificatePem() + "\n" + _chainPem);
        return (certificateFile, keyFile);
    }

    /// <summary>Whether a certificate a server presented chains to <paramref name="authority"/> (what a TLS client checks).</summary>
    public static bool Chains(X509Certificate? certificate, X509Certificate2 authority)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = new X509Certificate2(certificate);
        return chain.Build(presented);
    }

    public void Dispose()
    {
        Authority.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
