using System.Collections.Concurrent;
using Dynamite.IntegrationTests.Infrastructure;

namespace Dynamite.IntegrationTests.Membership;

/// <summary>
/// A client that writes new keys and reads back earlier ones through some nodes, without pause, until stopped
/// (bounded by a deadline and a count). It records every write the cluster acknowledged, so a test can check
/// that none is lost, and counts the quorum errors (NOQUORUM) and other failures it met.
/// </summary>
internal sealed class ContinuousLoad : IAsyncDisposable
{
    private const int MaxOperations = 200_000;
    private static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(180);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    private ContinuousLoad(LocalCluster cluster, string prefix, IReadOnlyList<int> coordinators) =>
        _running = Task.Run(() => Run(cluster, prefix, coordinators, _stop.Token));

    /// <summary>Keys whose SET was answered +OK, with their values.</summary>
    public ConcurrentDictionary<string, string> Acknowledged { get; } = new();

    public int QuorumErrors { get; private set; }

    public int OtherErrors { get; private set; }

    public int Reads { get; private set; }

    public int WrongReads { get; private set; }

    /// <summary>The first few error replies, for the test's output.</summary>
    public List<string> SampleErrors { get; } = [];

    public static ContinuousLoad Start(LocalCluster cluster, string prefix, params int[] coordinators) => new(cluster, prefix, coordinators);

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _running;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }

    public override string ToString() =>
        $"{Acknowledged.Count} writes acknowledged, {QuorumErrors} quorum errors, {OtherErrors} other errors, {Reads} reads ({WrongReads} wrong)";

    private void Run(LocalCluster cluster, string prefix, IReadOnlyList<int> coordinators, CancellationToken stop)
    {
        var clients = new RawRespClient?[coordinators.Count];
        DateTime deadline = DateTime.UtcNow + MaxDuration;
        var random = new Random(7);
        try
        {
            for (int i = 0; i < MaxOperations && !stop.IsCancellationRequested && DateTime.UtcNow < deadline; i++)
            {
                int slot = i % coordinators.Count;
                try
                {
                    RawRespClient client = clients[slot] ??= cluster.Connect(coordinators[slot]);
                    string key = $"{prefix}:{i}";
                    string value = $"value-{i}";
                    RespValue written = client.Call("SET", key, value);
                    if (written.ToString() == "+OK")
                    {
                        Acknowledged[key] = value;
                    }
                    else
                    {
                        Count(written);
                    }

                    if (i % 2 == 0 && i > 0)
                    {
                        string earlier = $"{prefix}:{random.Next(i)}";
                        RespValue read = client.Call("GET", earlier);
                        Reads++;
                        if (read.IsError)
                        {
                            Count(read);
                        }
                        else if (Acknowledged.TryGetValue(earlier, out string? expected) && read.Text != expected)
                        {
                            WrongReads++;
                        }
                    }
                }
                catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
                {
                    // The coordinator's connection dropped (a node left and exited): reconnect on the next operation.
                    OtherErrors++;
                    clients[slot]?.Dispose();
                    clients[slot] = null;
                }
            }
        }
        finally
        {
            foreach (RawRespClient? client in clients)
            {
                client?.Dispose();
            }
        }
    }

    private void Count(RespValue error)
    {
        if (SampleErrors.Count < 5)
        {
            SampleErrors.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {error.Text ?? error.ToString()}");
        }

        if ((error.Text ?? error.ToString()).Contains("NOQUORUM", StringComparison.Ordinal))
        {
            QuorumErrors++;
        }
        else
        {
            OtherErrors++;
        }
    }
}
