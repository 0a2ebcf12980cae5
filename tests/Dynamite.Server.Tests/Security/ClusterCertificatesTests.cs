using System.Net;
using System.Security.Cryptography.X509Certificates;
using Dynamite.Server.Security;
using Xunit;

namespace Dynamite.Server.Tests.Security;

/// <summary>A cluster's CA issues certificates that chain to it and carry the cluster and the node or client they name.</summary>
public sealed class ClusterCertificatesTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public void Issue_ChainsToTheClusterCa_AndNamesClusterAndNode()
    {
        (string caPem, string caKey) = ClusterCertificates.CreateAuthority("prod", TimeSpan.FromDays(10), Now);
        (string nodePem, string nodeKey) = ClusterCertificates.Issue(caPem, caKey, "n1", [IPAddress.Loopback, IPAddress.Parse("10.0.0.5")], ["localhost"], TimeSpan.FromDays(5), Now);

        using X509Certificate2 authority = X509Certificate2.CreateFromPem(caPem);
        using X509Certificate2 node = X509Certificate2.CreateFromPem(nodePem, nodeKey);
        Assert.True(node.HasPrivateKey);
        Assert.True(Chains(node, authority));
        Assert.Equal(("prod", "n1"), ClusterCertificates.IdentityOf(node));
        Assert.Equal("prod", ClusterCertificates.ClusterOf(authority));
        Assert.Null(ClusterCertificates.IdentityOf(authority));
        Assert.InRange(node.NotAfter.ToUniversalTime(), Now.AddDays(4).UtcDateTime, Now.AddDays(6).UtcDateTime);
    }

    [Fact]
    public void Issue_ByAnotherCa_DoesNotChain_AndOutlivesNoCa()
    {
        (string caPem, _) = ClusterCertificates.CreateAuthority("prod", TimeSpan.FromDays(10), Now);
        (string otherPem, string otherKey) = ClusterCertificates.CreateAuthority("staging", TimeSpan.FromDays(2), Now);
        (string strangerPem, _) = ClusterCertificates.Issue(otherPem, otherKey, "n1", [IPAddress.Loopback], [], TimeSpan.FromDays(365), Now);

        using X509Certificate2 authority = X509Certificate2.CreateFromPem(caPem);
        using X509Certificate2 stranger = X509Certificate2.CreateFromPem(strangerPem);
        Assert.False(Chains(stranger, authority));
        Assert.Equal(("staging", "n1"), ClusterCertificates.IdentityOf(stranger));
        Assert.True(stranger.NotAfter.ToUniversalTime() <= Now.AddDays(2).UtcDateTime);
    }

    private static bool Chains(X509Certificate2 certificate, X509Certificate2 authority)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
