using System.Net;
using System.Security.Cryptography.X509Certificates;
using Dynamite.Cluster.Transport;
using Dynamite.Server.Configuration;
using Dynamite.Server.Hosting;
using Dynamite.Server.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Dynamite.Server.Tests.Security;

/// <summary>
/// What a node accepts as a peer with <c>--peer-tls</c>: a node certificate of a trusted CA, naming its cluster; never a
/// client's certificate, another CA's or a CA file that parses to nothing; and what a changed file tells the connections.
/// </summary>
public sealed class PeerCertificatesTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private readonly string _directory = Directory.CreateTempSubdirectory("dynamite-peer-certs-").FullName;
    private readonly (string Certificate, string Key) _prod = ClusterCertificates.CreateAuthority("prod", TimeSpan.FromDays(10), Now);
    private readonly (string Certificate, string Key) _staging = ClusterCertificates.CreateAuthority("staging", TimeSpan.FromDays(10), Now);
    private readonly ManualClock _clock = new(Now);
    private int _writes;

    [Fact]
    public void Check_AcceptsNodeCertificatesOfTrustedCas_RefusesClientsStrangersAndOtherClusters()
    {
        using PeerCertificates certificates = Open(Issue(_prod, "n1"), _prod.Certificate);

        Assert.Equal(PeerCertificateCheck.Node("prod", "n2"), Check(certificates, Issue(_prod, "n2")));
        Assert.Null(Check(certificates, Issue(_prod, "n2")).RefusalFor("prod"));

        PeerCertificateCheck client = Check(certificates, Issue(_prod, "app", client: true));
        Assert.Contains("not trusted", client.RefusalFor("prod"), StringComparison.Ordinal);

        PeerCertificateCheck stranger = Check(certificates, Issue(_staging, "n2"));
        Assert.Contains("not trusted", stranger.RefusalFor("prod"), StringComparison.Ordinal);

        // Both CAs trusted (a file with two clusters' CAs): the staging node passes the chain, not the cluster name.
        using PeerCertificates both = Open(Issue(_prod, "n1"), _prod.Certificate + "\n" + _staging.Certificate);
        PeerCertificateCheck otherCluster = Check(both, Issue(_staging, "n2"));
        Assert.Equal(PeerCertificateCheck.Node("staging", "n2"), otherCluster);
        Assert.Contains("of cluster 'staging', not of 'prod'", otherCluster.RefusalFor("prod"), StringComparison.Ordinal);
        Assert.Contains("not trusted", Check(both, Issue(_prod, "app", client: true)).RefusalFor("prod"), StringComparison.Ordinal);
    }

    [Fact]
    public void ChangedFiles_TellTrustAndLocalChangesApart_AndAnEmptyCaFileKeepsTheTrustInUse()
    {
        using PeerCertificates certificates = Open(Issue(_prod, "n1"), _prod.Certificate);
        var changes = new List<PeerCertificatesChangedEventArgs>();
        certificates.Changed += (_, change) => changes.Add(change);

        Write("ca.pem", _prod.Certificate + "\n" + _staging.Certificate);
        Reload(certificates);
        Assert.True(changes is [{ TrustChanged: true, LocalChanged: false }]);
        Assert.Equal(PeerCertificateCheck.Node("staging", "n2"), Check(certificates, Issue(_staging, "n2")));

        (string certificate, string key) = Issue(_staging, "n1");
        Write("node.key", key);
        Write("node.pem", certificate);
        Reload(certificates);
        Assert.True(changes is [_, { TrustChanged: false, LocalChanged: true }]);
        Assert.Contains("O=staging", certificates.Local.TargetCertificate.Subject, StringComparison.Ordinal);

        // Two PEM files joined without a newline parse to no certificate: the CAs in use stay trusted, nothing changes.
        Write("ca.pem", _prod.Certificate.TrimEnd('\n') + _staging.Certificate);
        Reload(certificates);
        Assert.Equal(2, changes.Count);
        Assert.Equal(PeerCertificateCheck.Node("prod", "n2"), Check(certificates, Issue(_prod, "n2")));
    }

    [Fact]
    public void Start_RefusesACertificateOfAnotherNodeOrCluster_OrAClients()
    {
        Assert.Contains("of node 'n2' of cluster 'prod', but this is node 'n1'",
            Assert.Throws<ConfigurationException>(() => Open(Issue(_prod, "n2"), _prod.Certificate)).Message, StringComparison.Ordinal);
        Assert.Contains("cluster 'staging'", Assert.Throws<ConfigurationException>(() => Open(Issue(_staging, "n1"), _prod.Certificate)).Message, StringComparison.Ordinal);
        Assert.Contains("not a node certificate", Assert.Throws<ConfigurationException>(() => Open(Issue(_prod, "n1", client: true), _prod.Certificate)).Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private PeerCertificates Open((string Certificate, string Key) node, string authorities)
    {
        Write("node.pem", node.Certificate);
        Write("node.key", node.Key);
        Write("ca.pem", authorities);
        var files = new ReloadingCertificates(Path.Combine(_directory, "node.pem"), Path.Combine(_directory, "node.key"), Path.Combine(_directory, "ca.pem"),
            _clock, NullLogger.Instance);
        return new PeerCertificates(files, "prod", "n1", _clock);
    }

    private void Reload(PeerCertificates certificates)
    {
        _clock.Advance(TimeSpan.FromSeconds(2));
        certificates.CheckFiles();
    }

    private void Write(string name, string contents)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, contents);
        // The reload notices a file by its time or size; the clock of the file system may not have moved.
        File.SetLastWriteTimeUtc(path, Now.UtcDateTime.AddSeconds(++_writes));
    }

    private static PeerCertificateCheck Check(PeerCertificates certificates, (string Certificate, string Key) presented)
    {
        using X509Certificate2 certificate = X509Certificate2.CreateFromPem(presented.Certificate);
        return certificates.Check(PresentedCertificates.Copy(certificate, null));
    }

    private static (string Certificate, string Key) Issue((string Certificate, string Key) authority, string name, bool client = false) =>
        ClusterCertificates.Issue(authority.Certificate, authority.Key, name, [IPAddress.Loopback], ["localhost"], TimeSpan.FromDays(5), Now, client);

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
