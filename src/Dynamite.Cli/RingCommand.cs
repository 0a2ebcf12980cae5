using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Dynamite.Cli;

/// <summary><c>dynamite ring</c>: for every partition, its owner and preference list (primaries, then fallbacks standing in for unreachable primaries).</summary>
internal static class RingCommand
{
    public static Command Create()
    {
        var http = AdminOptions.Http();
        var json = AdminOptions.Json();
        var command = new Command("ring", "Show every partition's owner and preference list (primaries; fallbacks for unreachable primaries).")
        {
            http, json,
        };
        command.SetAction((parseResult, cancellationToken) => AdminOptions.RunAsync(async () =>
        {
            using var client = new AdminClient(parseResult.GetValue(http)!);
            using JsonDocument ring = await client.GetAsync("/v1/ring", cancellationToken);
            if (parseResult.GetValue(json))
            {
                AdminOptions.PrintJson(ring);
                return 0;
            }

            JsonElement root = ring.RootElement;
            if (root.GetProperty("state").GetString() != "ok")
            {
                throw new AdminException("the node has no partition map yet: " + root.GetProperty("state").GetString());
            }

            AnsiConsole.MarkupLine($"[bold]{root.GetProperty("partitions").GetArrayLength()} partitions[/] (Q={root.GetProperty("partitionBits")}), preference lists in {Markup.Escape(root.GetProperty("datacenter").GetString()!)} with N={root.GetProperty("n")}");
            var table = new Table().AddColumns("partition", "owner", "primaries", "fallbacks");
            foreach (JsonElement partition in root.GetProperty("partitions").EnumerateArray())
            {
                var unreachable = partition.GetProperty("unreachable").EnumerateArray().Select(n => n.GetString()!).ToHashSet();
                string primaries = string.Join(", ", partition.GetProperty("primaries").EnumerateArray()
                    .Select(n => unreachable.Contains(n.GetString()!) ? $"[red]{Markup.Escape(n.GetString()!)} (down)[/]" : Markup.Escape(n.GetString()!)));
                string fallbacks = string.Join(", ", partition.GetProperty("fallbacks").EnumerateArray()
                    .Select(f => $"{Markup.Escape(f.GetProperty("node").GetString()!)} for {Markup.Escape(f.GetProperty("hintFor").GetString() ?? "?")}"));
                table.AddRow(partition.GetProperty("partition").ToString(), Markup.Escape(partition.GetProperty("owner").GetString()!), primaries, fallbacks);
            }

            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }
}
