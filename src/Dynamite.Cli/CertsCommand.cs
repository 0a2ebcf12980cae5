using System.CommandLine;
using System.Net;
using Dynamite.Server.Security;

namespace Dynamite.Cli;

/// <summary>
/// <c>dynamite certs init</c> makes a cluster's CA (ca.pem, ca.key) in a directory; <c>dynamite certs issue NAME</c>
/// issues a certificate for a node (or with <c>--client</c> an application) from it (NAME.pem with the CA's certificate
/// after it, NAME.key), for the addresses and host names given: what <c>--tls-cert-file</c>, <c>--tls-key-file</c> and
/// <c>--tls-ca-cert-file</c> take, what peers present with <c>--peer-tls</c>, and what TLS clients present. Keys are written readable by their owner only; existing files are never
/// overwritten.
/// </summary>
internal static class CertsCommand
{
    public static Command Create()
    {
        var directory = new Option<string>("--dir") { Description = "Directory of the CA's files and of the certificates issued.", DefaultValueFactory = _ => "." };
        var cluster = new Option<string>("--cluster") { Description = "The cluster's name (--cluster-name of its nodes), written into every certificate.", DefaultValueFactory = _ => "dynamite" };
        var caDays = new Option<int>("--days") { Description = "How long the CA is valid, in days.", DefaultValueFactory = _ => 3650 };
        var init = new Command("init", "Make the cluster's certificate authority: ca.pem and ca.key in --dir.") { directory, cluster, caDays };
        init.SetAction(parseResult => Run(() =>
        {
            string dir = parseResult.GetValue(directory)!;
            (string certificate, string key) = ClusterCertificates.CreateAuthority(parseResult.GetValue(cluster)!, TimeSpan.FromDays(parseResult.GetValue(caDays)), DateTimeOffset.UtcNow);
            Write(dir, "ca", certificate, key);
            Console.WriteLine($"CA of cluster '{parseResult.GetValue(cluster)}': {Path.Combine(dir, "ca.pem")} (keep {Path.Combine(dir, "ca.key")} secret)");
        }));

        var name = new Argument<string>("name") { Description = "The node id, or a client's name." };
        var addresses = new Option<string[]>("--ip") { Description = "An IP address the certificate is good for (repeatable).", DefaultValueFactory = _ => ["127.0.0.1"], AllowMultipleArgumentsPerToken = true };
        var hostNames = new Option<string[]>("--dns") { Description = "A host name the certificate is good for (repeatable).", DefaultValueFactory = _ => ["localhost"], AllowMultipleArgumentsPerToken = true };
        var days = new Option<int>("--days") { Description = "How long the certificate is valid, in days (at most as long as the CA).", DefaultValueFactory = _ => 365 };
        var client = new Option<bool>("--client") { Description = "A client's certificate (client authentication only; refused as a peer) rather than a node's." };
        var issue = new Command("issue", "Issue a certificate for a node (or, with --client, an application) from the CA in --dir: NAME.pem and NAME.key.")
        {
            name, directory, addresses, hostNames, days, client,
        };
        issue.SetAction(parseResult => Run(() =>
        {
            string dir = parseResult.GetValue(directory)!;
            string subject = parseResult.GetValue(name)!;
            IPAddress[] ips = [.. parseResult.GetValue(addresses)!.Select(text => IPAddress.TryParse(text, out IPAddress? ip) ? ip : throw new ArgumentException($"--ip: '{text}' is not an IP address."))];
            (string certificate, string key) = ClusterCertificates.Issue(
                File.ReadAllText(Path.Combine(dir, "ca.pem")), File.ReadAllText(Path.Combine(dir, "ca.key")), subject, ips, parseResult.GetValue(hostNames)!,
                TimeSpan.FromDays(parseResult.GetValue(days)), DateTimeOffset.UtcNow, parseResult.GetValue(client));
            Write(dir, subject, certificate, key);
            Console.WriteLine($"{Path.Combine(dir, subject + ".pem")} and {Path.Combine(dir, subject + ".key")}");
        }));

        return new Command("certs", "Make a cluster's CA and issue node and client certificates from it (PEM files for the tls-* settings).") { init, issue };
    }

    private static int Run(Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            Console.Error.WriteLine($"dynamite certs: {exception.Message}");
            return 2;
        }
    }

    /// <summary>Writes NAME.pem and NAME.key (owner-only), refusing to replace either.</summary>
    private static void Write(string directory, string name, string certificatePem, string keyPem)
    {
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal) || name.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a name: the files are written in --dir as NAME.pem and NAME.key.");
        }

        Directory.CreateDirectory(directory);
        string certificateFile = Path.Combine(directory, name + ".pem");
        string keyFile = Path.Combine(directory, name + ".key");
        if (File.Exists(certificateFile) || File.Exists(keyFile))
        {
            throw new IOException($"{certificateFile} or {keyFile} exists already; remove it first or choose another name or --dir.");
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        // Each file ends with a newline, as openssl writes them, so `cat old-ca.pem new-ca.pem > trusted.pem` is a valid bundle.
        using (var key = new FileStream(keyFile, options))
        using (var writer = new StreamWriter(key))
        {
            writer.Write(keyPem.TrimEnd('\n') + "\n");
        }

        using var certificate = new FileStream(certificateFile, FileMode.CreateNew, FileAccess.Write);
        using var certificateWriter = new StreamWriter(certificate);
        certificateWriter.Write(certificatePem.TrimEnd('\n') + "\n");
    }
}
