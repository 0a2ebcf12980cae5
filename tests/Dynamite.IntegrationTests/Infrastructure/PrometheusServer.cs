using System.Globalization;
using System.Text.Json;

namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>
/// A real Prometheus server (Debian's <c>prometheus</c>) on a free loopback port, with its own configuration and data
/// directory, scraping the given targets every second; killed by PID and its directory deleted on dispose.
/// </summary>
internal sealed class PrometheusServer : ManagedProcess
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly string _directory;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private PrometheusServer(int port, string directory)
    {
        Port = port;
        _directory = directory;
    }

    public int Port { get; }

    /// <summary>Starts Prometheus scraping <c>/metrics</c> of every <c>127.0.0.1:port</c> in <paramref name="targetPorts"/> as job <c>dynamite</c>, and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(IEnumerable<int> targetPorts)
    {
        string directory = Directory.CreateTempSubdirectory("dynamite-prometheus-").FullName;
        var server = new PrometheusServer(FreePort.Next(), directory);
        string targets = string.Join(", ", targetPorts.Select(port => $"'127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}'"));
        string configuration = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(configuration, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: dynamite
                metrics_path: /metrics
                static_configs:
                  - targets: [{targets}]
            """);
        server.StartProcess(
            "prometheus",
            [
                "--config.file=" + configuration,
                "--storage.tsdb.path=" + Path.Combine(directory, "data"),
                "--web.listen-address=127.0.0.1:" + server.Port.ToString(CultureInfo.InvariantCulture),
                "--log.level=warn",
            ],
            directory);
        try
        {
            await server.WaitUntilReadyAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The value of an instant query (<c>/api/v1/query</c>) that yields one sample; null while it yields none.
    /// Throws when the query fails or yields more than one series.
    /// </summary>
    public async Task<double?> QueryAsync(string expression)
    {
        string url = $"http://127.0.0.1:{Port}/api/v1/query?query={Uri.EscapeDataString(expression)}";
        using JsonDocument document = JsonDocument.Parse(await _http.GetStringAsync(url));
        JsonElement root = document.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"query {expression} failed: {root}");
        }

        JsonElement result = root.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() switch
        {
            0 => null,
            1 => double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture),
            _ => throw new InvalidOperationException($"query {expression} yielded {result.GetArrayLength()} series: {result}"),
        };
    }

    /// <summary>Polls <paramref name="expression"/> until its value satisfies <paramref name="condition"/>; returns it. Throws after <paramref name="timeout"/>.</summary>
    public async Task<double> WaitForAsync(string expression, Func<double, bool> condition, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        double? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await QueryAsync(expression);
            if (last is { } value && condition(value))
            {
                return value;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{expression} was {last?.ToString(CultureInfo.InvariantCulture) ?? "absent"} after {timeout}:\n{Output}");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _http.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        DateTime deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with {ExitCode} before it was ready:\n{Output}");
            }

            try
            {
                using HttpResponseMessage response = await _http.GetAsync($"http://127.0.0.1:{Port}/-/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"prometheus was not ready within {StartTimeout}:\n{Output}");
    }
}
