using System.Diagnostics;
using System.Globalization;

namespace Dynamite.Cli.Bench;

/// <summary>What a measured run produced.</summary>
internal sealed record BenchResult(
    BenchSettings Settings,
    long Requests,
    long Errors,
    long Reads,
    long Writes,
    double Seconds,
    LatencyHistogram Latency,
    string? FirstErrorReply,
    string? LastFailure,
    int AbandonedConnections)
{
    public double RequestsPerSecond => Seconds > 0 ? Requests / Seconds : 0;

    /// <summary>The latency at <paramref name="percentile"/> in milliseconds.</summary>
    public double PercentileMs(double percentile) => Latency.ValueAtPercentile(percentile) / 1e6;

    public double MaxMs => Latency.Max / 1e6;

    public double MeanMs => Latency.Mean / 1e6;
}

/// <summary>Connects every connection, populates when asked, runs the measured phase and merges the results.</summary>
internal static class BenchRunner
{
    /// <param name="settings">What to run.</param>
    /// <param name="status">Progress text for a terminal (null: none); called with a line to overwrite, or with "" to clear it.</param>
    /// <param name="stop">Ctrl-C: stop issuing and report what was done.</param>
    /// <exception cref="BenchException">A target could not be reached.</exception>
    public static async Task<BenchResult> RunAsync(BenchSettings settings, Action<string>? status, CancellationToken stop)
    {
        settings.Validate();
        var templates = new CommandTemplates(settings.ValueSize);
        var connections = new BenchConnection[settings.Connections];
        SlotRouting? routing = settings.SlotAware ? await SlotRouting.DiscoverAsync(settings.Targets[0], settings.ReplyTimeout) : null;
        for (int i = 0; i < connections.Length; i++)
        {
            connections[i] = routing is null
                ? new BenchConnection(settings.Targets[i % settings.Targets.Count], templates, settings.ReplyTimeout)
                : new BenchConnection(routing.Targets[i % routing.Targets.Count], templates, settings.ReplyTimeout, (routing, i % routing.Targets.Count));
        }

        try
        {
            await Task.WhenAll(connections.Select(c => c.ConnectAsync()));
            if (settings.Populate)
            {
                // Batches of at most about 1 MiB, so 139 KB values do not make huge writes.
                int depth = Math.Clamp((1 << 20) / templates.Set.Length, 1, 64);
                var populate = new BenchRun(settings.Keyspace, duration: null);
                using CancellationTokenRegistration stopPopulate = stop.Register(populate.Stop);
                await RunPhaseAsync(connections, populate, depth, 0, settings.Keyspace, true, status, "populating");
                ThrowIfAbandoned(connections);
                long populateErrors = populate.Errors;
                if (populateErrors > 0)
                {
                    throw new BenchException(
                        $"populating the keyspace failed: {populateErrors} errors ({connections.Select(c => c.FirstErrorReply ?? c.LastFailure).FirstOrDefault(m => m is not null)})");
                }

                foreach (BenchConnection connection in connections)
                {
                    connection.ResetCounters();
                }
            }

            long limit = settings.Requests ?? long.MaxValue;
            var run = new BenchRun(limit, settings.Duration);
            using CancellationTokenRegistration stopRun = stop.Register(run.Stop);
            long start = Stopwatch.GetTimestamp();
            await RunPhaseAsync(connections, run, settings.Pipeline, settings.ReadPercent, settings.Keyspace, false, status, "requests");
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

            var latency = new LatencyHistogram();
            foreach (BenchConnection connection in connections)
            {
                latency.Add(connection.Histogram);
            }

            return new BenchResult(
                settings,
                connections.Sum(c => c.Requests),
                connections.Sum(c => c.Errors),
                connections.Sum(c => c.Reads),
                connections.Sum(c => c.Writes),
                seconds,
                latency,
                connections.Select(c => c.FirstErrorReply).FirstOrDefault(m => m is not null),
                connections.Select(c => c.LastFailure).FirstOrDefault(m => m is not null),
                connections.Count(c => c.Abandoned));
        }
        finally
        {
            foreach (BenchConnection connection in connections)
            {
                connection.Dispose();
            }
        }
    }

    private static void ThrowIfAbandoned(BenchConnection[] connections)
    {
        BenchConnection? lost = connections.FirstOrDefault(c => c.Abandoned);
        if (lost is not null)
        {
            throw new BenchException($"lost the connection to {lost.Target} and could not reconnect: {lost.LastFailure}");
        }
    }

    private static async Task RunPhaseAsync(
        BenchConnection[] connections, BenchRun run, int pipeline, int readPercent, long keyspace, bool populate, Action<string>? status, string what)
    {
        Task all = Task.WhenAll(connections.Select(c => Task.Run(() => c.RunAsync(run, pipeline, readPercent, keyspace, populate))));
        if (status is null)
        {
            await all;
            return;
        }

        long start = Stopwatch.GetTimestamp();
        long lastCompleted = 0;
        long lastTime = start;
        while (await Task.WhenAny(all, Task.Delay(1000)) != all)
        {
            long now = Stopwatch.GetTimestamp();
            long completed = run.Completed;
            double rate = (completed - lastCompleted) / Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds;
            status(string.Create(CultureInfo.InvariantCulture,
                $"{what}: {completed:N0} done, {rate:N0} req/s, {run.Errors:N0} errors, {Stopwatch.GetElapsedTime(start, now).TotalSeconds:0} s"));
            lastCompleted = completed;
            lastTime = now;
        }

        status(string.Empty);
        await all;
    }
}
