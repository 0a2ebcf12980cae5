using System.Net;
using System.Text.Json;

namespace Dynamite.Cli;

/// <summary>
/// The admin verbs' view of a node: GETs against its admin HTTP API with a timeout, and errors a person can
/// act on (which address, what went wrong) instead of a stack trace.
/// </summary>
internal sealed class AdminClient : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private readonly HttpClient _http;
    private readonly string _address;

    public AdminClient(string address)
    {
        _address = address.Contains("://", StringComparison.Ordinal) ? address : "http://" + address;
        _http = new HttpClient(Handler()) { BaseAddress = new Uri(_address), Timeout = RequestTimeout };

        // What changes the cluster needs an @admin ACL user: taken from the environment, as redis-cli takes REDISCLI_AUTH,
        // so the password is not in the process list.
        if (Environment.GetEnvironmentVariable("DYNAMITE_PASSWORD") is { Length: > 0 } password)
        {
            string user = Environment.GetEnvironmentVariable("DYNAMITE_USER") is { Length: > 0 } name ? name : "default";
            _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(user + ":" + password)));
        }
    }

    /// <summary>
    /// The HTTP handler: over HTTPS a node's certificate is checked against the system's roots, or against the CA in
    /// <c>DYNAMITE_CA_CERT</c> (a PEM file, such as <c>dynamite certs init</c> makes) when it is set.
    /// </summary>
    private static HttpClientHandler Handler()
    {
        var handler = new HttpClientHandler();
        if (Environment.GetEnvironmentVariable("DYNAMITE_CA_CERT") is { Length: > 0 } caFile)
        {
            var authorities = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
            authorities.ImportFromPemFile(caFile);
            handler.ServerCertificateCustomValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                {
                    return false;
                }

                using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
                chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
                return chain.Build(certificate);
            };
        }

        return handler;
    }

    /// <summary>The JSON document at <paramref name="path"/>; throws <see cref="AdminException"/> with a readable reason.</summary>
    public Task<JsonDocument> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, cancellationToken);

    /// <summary>POSTs to <paramref name="path"/> (an admin action) and returns its JSON answer.</summary>
    public Task<JsonDocument> PostAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Post, path, cancellationToken);

    private async Task<JsonDocument> SendAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            using var request = new HttpRequestMessage(method, path);
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException exception)
        {
            throw new AdminException($"cannot reach the admin API at {_address}: {exception.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AdminException($"the admin API at {_address} did not answer within {RequestTimeout.TotalSeconds:0} s");
        }

        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(body);
            }
            catch (JsonException)
            {
                throw new AdminException($"{_address}{path} answered {(int)response.StatusCode} with something other than JSON");
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                string reason = document.RootElement.TryGetProperty("error", out JsonElement error) ? error.GetString() ?? "" : body;
                document.Dispose();
                throw new AdminException($"{_address}{path}: {reason}");
            }

            return document;
        }
    }

    public void Dispose() => _http.Dispose();
}
