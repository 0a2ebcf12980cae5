using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dynamite.Server.Security;

/// <summary>
/// A cluster's own certificate authority and the certificates it issues (<c>dynamite certs</c>): EC P-256 keys,
/// PEM files. Every certificate names its cluster (the subject's O), and a node or client certificate names itself
/// in a URI subject alternative name, <c>dynamite://CLUSTER/NAME</c>, next to the addresses and host names it serves
/// (checked by TLS clients as usual). A node certificate (subject OU <see cref="NodeUnit"/>) is good for both ends of a
/// connection (server and client authentication): it serves the node's TLS port and its peer connections. A client
/// certificate (OU <see cref="ClientUnit"/>) only authenticates a client: a peer presenting one is refused, so an
/// application's certificate never lets it join the cluster.
/// </summary>
public static class ClusterCertificates
{
    /// <summary>The subject OU of a node's certificate: what a peer must present.</summary>
    public const string NodeUnit = "Dynamite node";

    /// <summary>The subject OU of a client's certificate.</summary>
    public const string ClientUnit = "Dynamite client";

    private const string UriScheme = "dynamite";
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    /// <summary>A new CA for <paramref name="cluster"/>: its certificate and private key, PEM.</summary>
    public static (string CertificatePem, string KeyPem) CreateAuthority(string cluster, TimeSpan lifetime, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Subject($"Dynamite CA {cluster}", cluster), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        using X509Certificate2 authority = request.CreateSelfSigned(now.AddMinutes(-5), now + lifetime);
        return (authority.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>
    /// A certificate for node (or, with <paramref name="client"/>, client) <paramref name="name"/> signed by the CA, for
    /// <paramref name="addresses"/> and <paramref name="hostNames"/>: the certificate followed by the CA's (its chain),
    /// and its private key, PEM.
    /// </summary>
    public static (string CertificatePem, string KeyPem) Issue(string authorityPem, string authorityKeyPem, string name,
        IReadOnlyList<IPAddress> addresses, IReadOnlyList<string> hostNames, TimeSpan lifetime, DateTimeOffset now, bool client = false)
    {
        using X509Certificate2 authority = X509Certificate2.CreateFromPem(authorityPem, authorityKeyPem);
        string cluster = ClusterOf(authority) ?? throw new ArgumentException("The CA certificate names no cluster (no O= in its subject).", nameof(authorityPem));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Subject(name, cluster, client ? ClientUnit : NodeUnit), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(client ? [ClientAuthentication] : [ServerAuthentication, ClientAuthentication], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri($"{UriScheme}://{Uri.EscapeDataString(cluster)}/{Uri.EscapeDataString(name)}"));
        foreach (IPAddress address in addresses)
        {
            names.AddIpAddress(address);
        }

        foreach (string hostName in hostNames)
        {
            names.AddDnsName(hostName);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        DateTimeOffset notAfter = now + lifetime < authority.NotAfter ? now + lifetime : authority.NotAfter;
        using X509Certificate2 issued = request.Create(authority, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        return (issued.ExportCertificatePem() + "\n" + authority.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>The cluster and name a certificate this CA issued carries; null when it carries none.</summary>
    public static (string Cluster, string Name)? IdentityOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension is not X509SubjectAlternativeNameExtension)
            {
                continue;
            }

            foreach (string uri in UrisOf(extension.RawData))
            {
                // dynamite://CLUSTER/NAME, both escaped: read by hand, since a cluster name need not be a valid host name.
                const string Prefix = UriScheme + "://";
                int slash = uri.StartsWith(Prefix, StringComparison.Ordinal) ? uri.IndexOf('/', Prefix.Length) : -1;
                if (slash > Prefix.Length && slash < uri.Length - 1)
                {
                    return (Uri.UnescapeDataString(uri[Prefix.Length..slash]), Uri.UnescapeDataString(uri[(slash + 1)..]));
                }
            }
        }

        return null;
    }

    /// <summary>The cluster and node a node's certificate names; null for any other certificate (a client's, a CA's, a stranger's).</summary>
    public static (string Cluster, string Name)? NodeIdentityOf(X509Certificate2 certificate) =>
        SubjectPart(certificate, "2.5.4.11") == NodeUnit && IdentityOf(certificate) is { } identity && SubjectPart(certificate, "2.5.4.10") == identity.Cluster
            ? identity
            : null;

    /// <summary>The cluster a certificate's subject names (its O).</summary>
    public static string? ClusterOf(X509Certificate2 certificate) => SubjectPart(certificate, "2.5.4.10");

    /// <summary>The value of the subject's relative name of type <paramref name="oid"/> (O, OU, ...); null when it has none.</summary>
    private static string? SubjectPart(X509Certificate2 certificate, string oid)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        foreach (X500RelativeDistinguishedName part in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (!part.HasMultipleElements && part.GetSingleElementType().Value == oid)
            {
                return part.GetSingleElementValue();
            }
        }

        return null;
    }

    private static X500DistinguishedName Subject(string commonName, string cluster, string? unit = null)
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(commonName);
        if (unit is not null)
        {
            builder.AddOrganizationalUnitName(unit);
        }

        builder.AddOrganizationName(cluster);
        return builder.Build();
    }

    /// <summary>The URIs of a subject alternative name extension (GeneralName [6] IA5String).</summary>
    private static List<string> UrisOf(byte[] extension)
    {
        var uris = new List<string>();
        var reader = new AsnReader(extension, AsnEncodingRules.DER);
        AsnReader names = reader.ReadSequence();
        var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
        while (names.HasData)
        {
            if (names.PeekTag() == uriTag)
            {
                uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, uriTag));
            }
            else
            {
                names.ReadEncodedValue();
            }
        }

        return uris;
    }
}
