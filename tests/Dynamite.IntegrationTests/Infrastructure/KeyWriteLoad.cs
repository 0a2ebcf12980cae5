using System.Diagnostics;
using System.Net.Sockets;

namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>
/// Concurrent clients writing unique keys to a <see cref="NetnsCluster"/>, each key once, each client taking
/// its coordinators round-robin and recording every request's outcome and latency. The load is bounded twice:
/// by the number of keys and by a deadline after which no request starts.
/// </summary>
internal static class KeyWriteLoad
{
    /// <summary>Runs the load to completion.</summary>
    /// <param name="cluster">The cluster written to.</param>
    /// <param name="prefix">Keys are "prefix:client:k", values "v-" and the key.</param>
    /// <param name="clients">Concurrent clients, one connection per node each.</param>
    /// <param name="keysPerClient">How many keys each client writes at most.</param>
    /// <param name="coordinators">The nodes the clients send to, round-robin.</param>
    /// <param name="interval">Pacing: a client starts its k-th write no sooner than k intervals after the start.</param>
    /// <param name="timeoutMs">Client-side timeout of one request (and of a connect).</param>
    /// <param name="deadline">No write starts after this.</param>
    /// <param name="avoidAfterTimeout">
    /// After a request to a node times out, the client sends to the next coordinators instead for this long, as
    /// a client library with a circuit breaker would; zero keeps strict round-robin.
    /// </param>
    /// <param name="stop">Ends the load early (after the request in flight).</param>
    public static Task<WriteOutcome[]> RunAsync(NetnsCluster cluster, string prefix, int clients, int keysPerClient, IReadOnlyList<int> coordinators, TimeSpan interval, int timeoutMs, DateTime deadline, TimeSpan avoidAfterTimeout = default, CancellationToken stop = default)
    {
        DateTime start = DateTime.UtcNow;
        Task<List<WriteOutcome>>[] tasks = [.. Enumerable.Range(0, clients).Select(client => Task.Factory.StartNew(
            () => RunClient(cluster, prefix, client, keysPerClient, coordinators, start, interval, timeoutMs, deadline, avoidAfterTimeout, stop),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default))];
        return Task.WhenAll(tasks).ContinueWith(all => all.Result.SelectMany(o => o).ToArray(), TaskScheduler.Default);
    }

    /// <summary>The latency below which <paramref name="fraction"/> of the requests finished (nearest rank).</summary>
    public static double Percentile(IEnumerable<WriteOutcome> outcomes, double fraction)
    {
        double[] sorted = [.. outcomes.Select(o => o.LatencyMs).Order()];
        return sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static List<WriteOutcome> RunClient(NetnsCluster cluster, string prefix, int client, int keysPerClient, IReadOnlyList<int> coordinators, DateTime start, TimeSpan interval, int timeoutMs, DateTime deadline, TimeSpan avoidAfterTimeout, CancellationToken stop)
    {
        var outcomes = new List<WriteOutcome>(keysPerClient);
        var connections = new RawRespClient?[cluster.Count];
        var avoidUntil = new DateTime[cluster.Count];
        try
        {
            for (int k = 0; k < keysPerClient && !stop.IsCancellationRequested; k++)
            {
                TimeSpan wait = start + (interval * k) - DateTime.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    Thread.Sleep(wait);
                }

                DateTime now = DateTime.UtcNow;
                if (now >= deadline)
                {
                    break;
                }

                int node = coordinators[(client + k) % coordinators.Count];
                for (int step = 1; step < coordinators.Count && avoidUntil[node] > now; step++)
                {
                    node = coordinators[(client + k + step) % coordinators.Count];
                }

                string key = $"{prefix}:{client}:{k}";
                string value = "v-" + key;
                long started = Stopwatch.GetTimestamp();
                string reply;
                try
                {
                    connections[node] ??= cluster.Connect(node, timeoutMs);
                    reply = connections[node]!.Call("SET", key, value).ToString();
                }
                catch (Exception exception) when (exception is IOException or SocketException or InvalidDataException)
                {
                    // A timed-out connection may still deliver the late reply: never reuse it.
                    connections[node]?.Dispose();
                    connections[node] = null;
                    avoidUntil[node] = DateTime.UtcNow + avoidAfterTimeout;
                    reply = "timeout: " + exception.Message;
                }

                outcomes.Add(new WriteOutcome(key, value, node, now, Stopwatch.GetElapsedTime(started).TotalMilliseconds, reply));
            }
        }
        finally
        {
            foreach (RawRespClient? connection in connections)
            {
                connection?.Dispose();
            }
        }

        return outcomes;
    }
}
