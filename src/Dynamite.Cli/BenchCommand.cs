using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dynamite.Cli.Bench;
using Spectre.Console;

namespace Dynamite.Cli;

/// <summary>
/// <c>dynamite bench</c>: a RESP load generator of our own (GET/SET over many connections, optionally pipelined,
/// spread over several nodes), reporting requests/s and latency percentiles as a table or, with <c>--json</c>, as
/// JSON with stable field names.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var targets = new Option<string[]>("--targets", "--host")
        {
            Description = "Target nodes, HOST:PORT, comma-separated or repeated; connections are spread round-robin over them.",
            DefaultValueFactory = _ => ["127.0.0.1:8102"],
            AllowMultipleArgumentsPerToken = true,
        };
        var connections = new Option<int>("--connections", "-c") { Description = "Concurrent connections.", DefaultValueFactory = _ => 50 };
        var pipeline = new Option<int>("--pipeline", "-P") { Description = "Requests in flight per connection (written together).", DefaultValueFactory = _ => 1 };
        var keyspace = new Option<long>("--keyspace", "-r") { Description = "Number of distinct keys (key:000000000000 ...), picked at random.", DefaultValueFactory = _ => 100_000 };
        var valueSize = new Option<int>("--value-size", "-d") { Description = "SET value size in bytes.", DefaultValueFactory = _ => 100 };
        var test = new Option<string>("--test", "-t") { Description = "set (all SET), get (all GET) or mixed (--read-percent GETs, default 50).", DefaultValueFactory = _ => "mixed" };
        test.AcceptOnlyFromAmong("set", "get", "mixed");
        var readPercent = new Option<int?>("--read-percent", "--ratio") { Description = "Percentage of GETs, 0-100 (the rest are SETs); implies --test mixed." };
        var requests = new Option<long?>("--requests", "-n") { Description = "Total requests (default 100000, or unbounded when only --duration is given)." };
        var duration = new Option<double?>("--duration") { Description = "Stop issuing requests after this many seconds (whichever of --requests and --duration comes first)." };
        var populate = new Option<bool>("--populate", "--warmup") { Description = "SET every key of the keyspace once before the measured run (not measured)." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for a connection or a batch's replies; late requests count as errors and the connection reconnects.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON." };
        var clusterAware = new Option<bool>("--cluster")
        {
            Description = "Route by slot, as a cluster-aware client: read CLUSTER NODES from the first target and send each key to the node that comes first for its slot.",
        };
        var command = new Command("bench", "Load-test RESP servers (Dynamite or redis-server) with GET/SET and report requests/s and latency percentiles.")
        {
            targets, connections, pipeline, keyspace, valueSize, test, readPercent, requests, duration, populate, timeout, json, clusterAware,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                string testName = parseResult.GetValue(test)!;
                int? percent = parseResult.GetValue(readPercent);
                if (percent is not null && testName != "mixed")
                {
                    throw new BenchException("--read-percent goes with --test mixed only");
                }

                double? seconds = parseResult.GetValue(duration);
                long? count = parseResult.GetValue(requests);
                if (count is null && seconds is null)
                {
                    count = 100_000;
                }

                var settings = new BenchSettings(
                    parseResult.GetValue(targets)!.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(BenchTarget.Parse).ToList(),
                    parseResult.GetValue(connections),
                    parseResult.GetValue(pipeline),
                    parseResult.GetValue(keyspace),
                    parseResult.GetValue(valueSize),
                    testName,
                    percent ?? testName switch { "set" => 0, "get" => 100, _ => 50 },
                    count,
                    seconds is { } s ? TimeSpan.FromSeconds(s) : null,
                    parseResult.GetValue(populate),
                    TimeSpan.FromSeconds(parseResult.GetValue(timeout)))
                {
                    SlotAware = parseResult.GetValue(clusterAware),
                };
                return await RunAsync(settings, parseResult.GetValue(json), cancellationToken);
            }
            catch (BenchException exception)
            {
                await Console.Error.WriteLineAsync("dynamite bench: " + exception.Message);
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, bool json, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl-C stops issuing and reports what was done; a second one ends the process.
            if (!stop.IsCancellationRequested)
            {
                e.Cancel = true;
                stop.Cancel();
            }
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            Action<string>? status = Console.IsErrorRedirected ? null : ShowStatus;
            BenchResult result = await BenchRunner.RunAsync(settings, status, stop.Token);
            if (json)
            {
                PrintJson(result);
            }
            else
            {
                PrintTable(result);
            }

            if (result.AbandonedConnections > 0)
            {
                await Console.Error.WriteLineAsync(
                    $"dynamite bench: {result.AbandonedConnections} connection(s) could not reconnect and stopped early: {result.LastFailure}");
                return 1;
            }

            return result.Requests > 0 ? 0 : 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static int _statusWidth;

    private static void ShowStatus(string line)
    {
        // One line, rewritten in place with \r; padded so a shorter line hides the longer one before it.
        int width = Math.Max(_statusWidth, line.Length);
        Console.Error.Write("\r" + line.PadRight(width) + (line.Length == 0 ? "\r" : string.Empty));
        _statusWidth = line.Length == 0 ? 0 : line.Length;
    }

    private static string Ms(double value) => value.ToString(value < 10 ? "0.000" : "0.0", CultureInfo.InvariantCulture);

    private static void PrintTable(BenchResult result)
    {
        BenchSettings s = result.Settings;
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{s.Test} ({s.ReadPercent}% GET) against {string.Join(", ", s.Targets)}: {s.Connections} connections, pipeline {s.Pipeline}, " +
            $"keyspace {s.Keyspace:N0}, values {s.ValueSize:N0} B{(s.Populate ? ", populated first" : string.Empty)}")));
        // One row per figure: fits any terminal width.
        var table = new Table().AddColumns("", "");
        table.ShowHeaders = false;
        table.Columns[1].RightAligned();
        table.AddRow("requests", result.Requests.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("errors", result.Errors == 0 ? "0" : $"[red]{result.Errors.ToString("N0", CultureInfo.InvariantCulture)}[/]");
        table.AddRow("seconds", result.Seconds.ToString("0.00", CultureInfo.InvariantCulture));
        table.AddRow("[bold]requests/s[/]", $"[bold]{result.RequestsPerSecond.ToString("N0", CultureInfo.InvariantCulture)}[/]");
        table.AddRow("p50 ms", Ms(result.PercentileMs(50)));
        table.AddRow("p90 ms", Ms(result.PercentileMs(90)));
        table.AddRow("p99 ms", Ms(result.PercentileMs(99)));
        table.AddRow("p99.9 ms", Ms(result.PercentileMs(99.9)));
        table.AddRow("max ms", Ms(result.MaxMs));
        AnsiConsole.Write(table);
        if (result.FirstErrorReply is not null)
        {
            AnsiConsole.MarkupLine($"[yellow]first error reply: {Markup.Escape(result.FirstErrorReply)}[/]");
        }

        if (result.LastFailure is not null)
        {
            AnsiConsole.MarkupLine($"[yellow]connection failure: {Markup.Escape(result.LastFailure)}[/]");
        }
    }

    private static void PrintJson(BenchResult result)
    {
        BenchSettings s = result.Settings;
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("requests", result.Requests);
            writer.WriteNumber("errors", result.Errors);
            writer.WriteNumber("reads", result.Reads);
            writer.WriteNumber("writes", result.Writes);
            writer.WriteNumber("seconds", Math.Round(result.Seconds, 4));
            writer.WriteNumber("requestsPerSecond", Math.Round(result.RequestsPerSecond, 1));
            writer.WriteNumber("p50Ms", result.PercentileMs(50));
            writer.WriteNumber("p90Ms", result.PercentileMs(90));
            writer.WriteNumber("p99Ms", result.PercentileMs(99));
            writer.WriteNumber("p999Ms", result.PercentileMs(99.9));
            writer.WriteNumber("maxMs", result.MaxMs);
            writer.WriteNumber("meanMs", Math.Round(result.MeanMs, 6));
            writer.WriteString("firstError", result.FirstErrorReply);
            writer.WriteString("connectionFailure", result.LastFailure);
            writer.WriteNumber("abandonedConnections", result.AbandonedConnections);
            writer.WriteStartArray("targets");
            foreach (BenchTarget target in s.Targets)
            {
                writer.WriteStringValue(target.ToString());
            }

            writer.WriteEndArray();
            writer.WriteNumber("connections", s.Connections);
            writer.WriteNumber("pipeline", s.Pipeline);
            writer.WriteNumber("keyspace", s.Keyspace);
            writer.WriteNumber("valueSize", s.ValueSize);
            writer.WriteString("test", s.Test);
            writer.WriteNumber("readPercent", s.ReadPercent);
            if (s.Requests is { } limit)
            {
                writer.WriteNumber("requestLimit", limit);
            }
            else
            {
                writer.WriteNull("requestLimit");
            }

            if (s.Duration is { } duration)
            {
                writer.WriteNumber("durationLimitSeconds", duration.TotalSeconds);
            }
            else
            {
                writer.WriteNull("durationLimitSeconds");
            }

            writer.WriteBoolean("populate", s.Populate);
            writer.WriteNumber("timeoutSeconds", s.ReplyTimeout.TotalSeconds);
            writer.WriteEndObject();
        }

        stdout.WriteByte((byte)'\n');
    }
}
