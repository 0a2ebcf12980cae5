using System.Net;
using System.Security.Cryptography.X509Certificates;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Security;

/// <summary>
/// With <c>--http-tls on</c> the admin API serves HTTPS with the node certificate: a client trusting the CA reaches it
/// (the CLI with <c>DYNAMITE_CA_CERT</c>), plain HTTP to the port gets nothing, and a client trusting another CA refuses it.
/// </summary>
public sealed class AdminHttpsTests
{
    [Fact]
    public async Task AdminApi_OverHttps_WithTheNodeCertificate()
    {
        using TestCertificates certificates = TestCertificates.CreateAuthority("Dynamite Admin CA");
        using TestCertificates stranger = TestCertificates.CreateAuthority("Another CA");
        (string certificate, string key) = certificates.Issue("node", server: true);
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory",
            ["--tls-cert-file", certificate, "--tls-key-file", key, "--http-tls", "on"]);

        using (var trusting = new HttpClient(Trusting(certificates.Authority)) { Timeout = TimeSpan.FromSeconds(10) })
        {
            HttpResponseMessage response = await trusting.GetAsync($"https://127.0.0.1:{node.HttpPort}/v1/node");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("nodeId", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync($"http://127.0.0.1:{node.HttpPort}/v1/node"));
        }

        using (var other = new HttpClient(Trusting(stranger.Authority)) { Timeout = TimeSpan.FromSeconds(10) })
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => other.GetAsync($"https://127.0.0.1:{node.HttpPort}/v1/node"));
        }

        ExternalTool.Result status = await ExternalTool.RunAsync("/usr/bin/env",
            [$"DYNAMITE_CA_CERT={certificates.AuthorityFile}", "dotnet", RepositoryPaths.DynamiteDll, "status", "--http", $"https://127.0.0.1:{node.HttpPort}"],
            TimeSpan.FromSeconds(60));
        // It reached the node over HTTPS: the node answers that it is standalone (no cluster status to show).
        Assert.Contains("standalone", status.StandardError + status.StandardOutput, StringComparison.Ordinal);
    }

    private static HttpClientHandler Trusting(X509Certificate2 authority) => new()
    {
        ServerCertificateCustomValidationCallback = (_, presented, _, _) =>
        {
            if (presented is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.CustomTrustStore.Add(authority);
            return chain.Build(presented);
        },
    };
}
