using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Dynamite.IntegrationTests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace Dynamite.IntegrationTests.Security;

/// <summary>
/// TLS for clients with redis-server's settings (tls-port, tls-cert-file, tls-key-file, tls-ca-cert-file,
/// tls-auth-clients): unchanged clients (redis-cli --tls, StackExchange.Redis ssl=true, redis-py, ioredis) connect with a client
/// certificate of the CA; a plaintext client, a client without a certificate and one from another CA are refused
/// while every other connection keeps working; a replaced certificate is served to the next connection without a restart.
/// </summary>
public sealed class ClientTlsTests
{
    private const string Python = "/usr/bin/python3";

    [Fact]
    public async Task TlsPort_ServesClientsOfTheCa_RefusesTheRest_AndPicksUpARotatedCertificate()
    {
        using TestCertificates certificates = TestCertificates.CreateAuthority("Dynamite Test CA");
        (string serverCertificate, string serverKey) = certificates.Issue("node", server: true);
        (string clientCertificate, string clientKey) = certificates.Issue("app", server: false);
        int tlsPort = FreePort.Next();
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory",
        [
            "--tls-port", tlsPort.ToString(CultureInfo.InvariantCulture), "--tls-cert-file", serverCertificate, "--tls-key-file", serverKey,
            "--tls-ca-cert-file", certificates.AuthorityFile,
        ]);

        string[] tls = ["--tls", "--cert", clientCertificate, "--key", clientKey, "--cacert", certificates.AuthorityFile, "-p", tlsPort.ToString(CultureInfo.InvariantCulture)];
        Assert.Equal("OK", (await RedisCli([.. tls, "SET", "secret", "42"])).StandardOutput.Trim());
        Assert.Equal("42", (await RedisCli([.. tls, "GET", "secret"])).StandardOutput.Trim());

        // An open TLS connection, kept across the refusals and the rotation below.
        using TlsClient kept = await TlsClient.ConnectAsync(tlsPort, certificates.Authority, clientCertificate, clientKey);
        Assert.Equal("+PONG", kept.Call("PING"));
        string firstThumbprint = kept.ServerThumbprint;

        // A plaintext client on the TLS port, and a TLS client without a certificate or with another CA's: refused.
        using (var plain = RawRespClient.Connect(tlsPort, timeoutMs: 5000))
        {
            plain.Send("PING");
            Assert.True(plain.IsClosedByServer());
        }

        ExternalTool.Result noCertificate = await RedisCli(["--tls", "--cacert", certificates.AuthorityFile, "-p", tlsPort.ToString(CultureInfo.InvariantCulture), "PING"]);
        Assert.DoesNotContain("PONG", noCertificate.StandardOutput, StringComparison.Ordinal);
        using (TestCertificates other = TestCertificates.CreateAuthority("Another CA"))
        {
            (string strangerCertificate, string strangerKey) = other.Issue("stranger", server: false);
            ExternalTool.Result stranger = await RedisCli(["--tls", "--cert", strangerCertificate, "--key", strangerKey, "--cacert", certificates.AuthorityFile,
                "-p", tlsPort.ToString(CultureInfo.InvariantCulture), "PING"]);
            Assert.DoesNotContain("PONG", stranger.StandardOutput, StringComparison.Ordinal);
        }

        Assert.Equal("+PONG", kept.Call("PING"));
        using (RawRespClient plainPort = node.Connect())
        {
            Assert.Equal("$\"42\"", plainPort.Call("GET", "secret").ToString());
        }

        // StackExchange.Redis, unchanged, with ssl=true and the client certificate.
        var options = new ConfigurationOptions { Ssl = true, SslHost = "localhost", AbortOnConnectFail = true, ConnectTimeout = 15000 };
        options.EndPoints.Add("127.0.0.1", tlsPort);
        using X509Certificate2 clientPair = X509Certificate2.CreateFromPemFile(clientCertificate, clientKey);
        options.CertificateSelection += (_, _, _, _, _) => clientPair;
        options.CertificateValidation += (_, certificate, _, _) => TestCertificates.Chains(certificate, certificates.Authority);
        ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(options);
        try
        {
            Assert.Equal("42", (string?)await redis.GetDatabase().StringGetAsync("secret"));
        }
        finally
        {
            await Task.Run(redis.Dispose);
        }

        // redis-py, unchanged.
        string script = $$"""
            import redis, sys
            r = redis.Redis(host="127.0.0.1", port={{tlsPort}}, ssl=True, ssl_certfile=sys.argv[1], ssl_keyfile=sys.argv[2], ssl_ca_certs=sys.argv[3], ssl_check_hostname=False)
            print(r.get("secret").decode())
            """;
        string path = Path.Combine(certificates.Directory, "client.py");
        await File.WriteAllTextAsync(path, script);
        ExternalTool.Result python = await ExternalTool.RunAsync(Python, [path, clientCertificate, clientKey, certificates.AuthorityFile], TimeSpan.FromSeconds(60));
        Assert.True(python.ExitCode == 0 && python.StandardOutput.Trim() == "42", python.ToString());

        // ioredis, unchanged.
        string scripts = Path.Combine(RepositoryPaths.Root, "tests", "Dynamite.IntegrationTests", "Node");
        Assert.True(Directory.Exists(Path.Combine(scripts, "node_modules", "ioredis")), "ioredis is not installed: scripts/test.sh runs npm ci in " + scripts);
        ExternalTool.Result ioredis = await ExternalTool.RunAsync(
            "node", [Path.Combine(scripts, "ioredis_tls_check.js"), tlsPort.ToString(CultureInfo.InvariantCulture), clientCertificate, clientKey, certificates.AuthorityFile],
            TimeSpan.FromSeconds(60));
        Assert.True(ioredis.ExitCode == 0 && ioredis.StandardOutput.Contains("VALUE 42", StringComparison.Ordinal), ioredis.ToString());

        // Rotation: new files in place; the next connection gets the new certificate, the open one keeps working.
        (string rotatedCertificate, string rotatedKey) = certificates.Issue("node-rotated", server: true);
        File.Copy(rotatedKey, serverKey, overwrite: true);
        File.Copy(rotatedCertificate, serverCertificate, overwrite: true);
        string newThumbprint = firstThumbprint;
        for (DateTime until = DateTime.UtcNow + TimeSpan.FromSeconds(15); newThumbprint == firstThumbprint && DateTime.UtcNow < until; await Task.Delay(200))
        {
            using TlsClient fresh = await TlsClient.ConnectAsync(tlsPort, certificates.Authority, clientCertificate, clientKey);
            Assert.Equal("+PONG", fresh.Call("PING"));
            newThumbprint = fresh.ServerThumbprint;
        }

        Assert.NotEqual(firstThumbprint, newThumbprint);
        Assert.Equal(X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(rotatedCertificate)).Thumbprint, newThumbprint);
        Assert.Equal("+PONG", kept.Call("PING"));
    }

    [Fact]
    public async Task TlsPort_SendsTheIntermediates_AndRefusesACertificateNotMeantForClients()
    {
        using TestCertificates root = TestCertificates.CreateAuthority("Root CA");
        using TestCertificates issuing = root.CreateIntermediate("Issuing CA");
        // The node's file holds its certificate and the intermediate; clients trust the root only.
        (string serverCertificate, string serverKey) = issuing.Issue("node", server: true);
        (string clientCertificate, string clientKey) = root.Issue("app", server: false);
        (string serverOnly, string serverOnlyKey) = root.Issue("not-a-client", server: true);
        int tlsPort = FreePort.Next();
        await using DynamiteNode node = await DynamiteNode.StartAsync("memory",
        [
            "--tls-port", tlsPort.ToString(CultureInfo.InvariantCulture), "--tls-cert-file", serverCertificate, "--tls-key-file", serverKey,
            "--tls-ca-cert-file", root.AuthorityFile,
        ]);

        ExternalTool.Result ping = await RedisCli(["--tls", "--cert", clientCertificate, "--key", clientKey, "--cacert", root.AuthorityFile, "-p", tlsPort.ToString(CultureInfo.InvariantCulture), "PING"]);
        Assert.True(ping.StandardOutput.Trim() == "PONG", ping.ToString());
        ExternalTool.Result wrongUse = await RedisCli(["--tls", "--cert", serverOnly, "--key", serverOnlyKey, "--cacert", root.AuthorityFile, "-p", tlsPort.ToString(CultureInfo.InvariantCulture), "PING"]);
        Assert.DoesNotContain("PONG", wrongUse.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CertsCommand_MakesACaAndCertificatesANodeAndRedisCliUse()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"dynamite-certs-cli-{Guid.NewGuid():N}");
        try
        {
            foreach (string[] arguments in new[] { new[] { "certs", "init", "--dir", directory, "--cluster", "prod" }, ["certs", "issue", "n1", "--dir", directory], ["certs", "issue", "app", "--dir", directory] })
            {
                ExternalTool.Result made = await ExternalTool.RunAsync("dotnet", [RepositoryPaths.DynamiteDll, .. arguments], TimeSpan.FromSeconds(60));
                Assert.True(made.ExitCode == 0, made.ToString());
            }

            ExternalTool.Result again = await ExternalTool.RunAsync("dotnet", [RepositoryPaths.DynamiteDll, "certs", "issue", "app", "--dir", directory], TimeSpan.FromSeconds(60));
            Assert.True(again.ExitCode == 2 && again.StandardError.Contains("exists already", StringComparison.Ordinal), again.ToString());

            int tlsPort = FreePort.Next();
            await using DynamiteNode node = await DynamiteNode.StartAsync("memory",
            [
                "--tls-port", tlsPort.ToString(CultureInfo.InvariantCulture), "--tls-cert-file", Path.Combine(directory, "n1.pem"),
                "--tls-key-file", Path.Combine(directory, "n1.key"), "--tls-ca-cert-file", Path.Combine(directory, "ca.pem"),
            ]);
            ExternalTool.Result ping = await RedisCli(["--tls", "--cert", Path.Combine(directory, "app.pem"), "--key", Path.Combine(directory, "app.key"),
                "--cacert", Path.Combine(directory, "ca.pem"), "-p", tlsPort.ToString(CultureInfo.InvariantCulture), "PING"]);
            Assert.Equal("PONG", ping.StandardOutput.Trim());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Task<ExternalTool.Result> RedisCli(string[] arguments) => ExternalTool.RunAsync("redis-cli", arguments, TimeSpan.FromSeconds(30));

    /// <summary>A RESP connection over TLS that tells which certificate the server presented.</summary>
    private sealed class TlsClient : IDisposable
    {
        private readonly TcpClient _tcp;
        private readonly SslStream _ssl;
        private readonly StreamReader _reader;

        private TlsClient(TcpClient tcp, SslStream ssl)
        {
            _tcp = tcp;
            _ssl = ssl;
            _reader = new StreamReader(ssl, Encoding.ASCII);
        }

        public string ServerThumbprint => new X509Certificate2(_ssl.RemoteCertificate!).Thumbprint;

        public static async Task<TlsClient> ConnectAsync(int port, X509Certificate2 authority, string certificateFile, string keyFile)
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", port);
            var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) => TestCertificates.Chains(certificate, authority));
            using X509Certificate2 pair = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [pair],
            });
            return new TlsClient(tcp, ssl);
        }

        /// <summary>Sends an inline command and returns its one-line reply.</summary>
        public string Call(string command)
        {
            _ssl.Write(Encoding.ASCII.GetBytes(command + "\r\n"));
            _ssl.Flush();
            return _reader.ReadLine() ?? "";
        }

        public void Dispose()
        {
            _reader.Dispose();
            _ssl.Dispose();
            _tcp.Dispose();
        }
    }
}
