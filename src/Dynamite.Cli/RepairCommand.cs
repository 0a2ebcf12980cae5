using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Dynamite.Cli;

/// <summary>
/// <c>dynamite repair</c>: runs anti-entropy exchanges now, on the node at <c>--http</c>, for one partition or
/// every one (a partition at a time, with a progress bar), and reports what they repaired.
/// </summary>
internal static class RepairCommand
{
    public static Command Create()
    {
        var http = AdminOptions.Http();
        var partition = new Option<int?>("--partition") { Description = "Only this partition (default: every partition the node is a primary of)." };
        var command = new Command("repair", "Exchange Merkle trees with the other replicas now and repair every key that differs.")
        {
            http, partition,
        };
        command.SetAction((parseResult, cancellationToken) => AdminOptions.RunAsync(async () =>
        {
            using var client = new AdminClient(parseResult.GetValue(http)!);
            var totals = new RepairTotals();
            if (parseResult.GetValue(partition) is { } only)
            {
                using JsonDocument result = await client.PostAsync($"/v1/repair?partition={only}", cancellationToken);
                totals.Add(result.RootElement);
            }
            else
            {
                using JsonDocument node = await client.GetAsync("/v1/node", cancellationToken);
                int partitions = node.RootElement.GetProperty("partitions").GetInt32();
                await AnsiConsole.Progress().StartAsync(async progress =>
                {
                    ProgressTask task = progress.AddTask("Exchanging partitions", maxValue: partitions);
                    for (int p = 0; p < partitions; p++)
                    {
                        using JsonDocument result = await client.PostAsync($"/v1/repair?partition={p}", cancellationToken);
                        totals.Add(result.RootElement);
                        task.Increment(1);
                    }
                });
            }

            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"{totals.Exchanges} exchanges ({totals.Failed} failed): {totals.Segments} differing segments, [bold]{totals.Keys} keys repaired[/], {totals.Bytes:N0} bytes of hashes and key lists exchanged"));
            foreach (string error in totals.Errors.Take(10))
            {
                AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(error)}[/]");
            }

            return totals.Failed == 0 ? 0 : 1;
        }));
        return command;
    }

    private sealed class RepairTotals
    {
        public long Exchanges { get; private set; }

        public long Failed { get; private set; }

        public long Segments { get; private set; }

        public long Keys { get; private set; }

        public long Bytes { get; private set; }

        public List<string> Errors { get; } = [];

        public void Add(JsonElement result)
        {
            Exchanges += result.GetProperty("exchanges").GetInt64();
            Failed += result.GetProperty("failed").GetInt64();
            Segments += result.GetProperty("differingSegments").GetInt64();
            Keys += result.GetProperty("keysRepaired").GetInt64();
            Bytes += result.GetProperty("bytesExchanged").GetInt64();
            Errors.AddRange(result.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!));
        }
    }
}
