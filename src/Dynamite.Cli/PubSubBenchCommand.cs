using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dynamite.Cli.Bench;

namespace Dynamite.Cli;

/// <summary>
/// <c>dynamite bench-pubsub</c>: subscribers and publishers spread over the targets, every message checked at every
/// subscriber (lost, repeated, out of order) and its delivery latency sampled; JSON on stdout.
/// </summary>
internal static class PubSubBenchCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var targets = new Option<string[]>("--targets", "--host")
        {
            Description = "Target nodes, HOST:PORT, comma-separated or repeated; subscribers and publishers are spread round-robin over them.",
            DefaultValueFactory = _ => ["127.0.0.1:8102"],
            AllowMultipleArgumentsPerToken = true,
        };
        var subscribers = new Option<int>("--subscribers") { Description = "Subscriber connections (each gets every message).", DefaultValueFactory = _ => 100 };
        var publishers = new Option<int?>("--publishers") { Description = "Publisher connections (default: one per target)." };
        var rate = new Option<int>("--rate") { Description = "Messages published per second, in total.", DefaultValueFactory = _ => 10_000 };
        var duration = new Option<double>("--duration") { Description = "Seconds of publishing.", DefaultValueFactory = _ => 30 };
        var payload = new Option<int>("--payload") { Description = "Message size in bytes (at least 20).", DefaultValueFactory = _ => 64 };
        var command = new Command("bench-pubsub", "Load-test pub/sub: publish at a fixed rate through every target and check every message at every subscriber.")
        {
            targets, subscribers, publishers, rate, duration, payload,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                List<BenchTarget> parsed = [.. parseResult.GetValue(targets)!.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(BenchTarget.Parse)];
                var settings = new PubSubLoadSettings(
                    parsed,
                    Positive(parseResult.GetValue(subscribers), "--subscribers"),
                    Positive(parseResult.GetValue(publishers) ?? parsed.Count, "--publishers"),
                    Positive(parseResult.GetValue(rate), "--rate"),
                    TimeSpan.FromSeconds(parseResult.GetValue(duration) is var seconds and > 0 and <= 3600 ? seconds : throw new BenchException("--duration is 0 to 3600 s")),
                    Math.Max(20, parseResult.GetValue(payload)),
                    TimeSpan.FromSeconds(10));
                PubSubLoadResult result = await PubSubLoad.RunAsync(settings, cancellationToken);
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(result, Indented));
                return result.Published > 0 ? 0 : 1;
            }
            catch (BenchException exception)
            {
                await Console.Error.WriteLineAsync("dynamite bench-pubsub: " + exception.Message);
                return 1;
            }
        });
        return command;
    }

    private static int Positive(int value, string name) => value > 0 ? value : throw new BenchException(string.Create(CultureInfo.InvariantCulture, $"{name} must be positive, not {value}"));
}
