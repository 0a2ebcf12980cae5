using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Dynamite.Cli;

/// <summary>
/// <c>dynamite status</c>: the cluster as one node sees it (members, their state, partitions owned, hints
/// pending, the failure detector's view), as a table or, with <c>--json</c>, the admin API's document.
/// </summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var http = AdminOptions.Http();
        var json = AdminOptions.Json();
        var command = new Command("status", "Show the cluster as a node sees it: members, state, partitions owned, hints pending, failure detector view.")
        {
            http, json,
        };
        command.SetAction((parseResult, cancellationToken) => AdminOptions.RunAsync(async () =>
        {
            using var client = new AdminClient(parseResult.GetValue(http)!);
            using JsonDocument status = await client.GetAsync("/v1/cluster", cancellationToken);
            if (parseResult.GetValue(json))
            {
                AdminOptions.PrintJson(status);
                return 0;
            }

            Print(status.RootElement);
            return 0;
        }));
        return command;
    }

    private static void Print(JsonElement status)
    {
        AnsiConsole.MarkupLine(
            $"[bold]Cluster {Markup.Escape(status.GetProperty("clusterName").GetString()!)}[/] seen from [bold]{Markup.Escape(status.GetProperty("nodeId").GetString()!)}[/]: " +
            $"{Markup.Escape(status.GetProperty("state").GetString()!)}, N={status.GetProperty("n")} R={status.GetProperty("r")} W={status.GetProperty("w")}");
        var table = new Table().AddColumns("node", "state", "datacenter", "rack", "peer address", "partitions owned", "handoffs pending", "hints held for it");
        var phi = new Dictionary<string, string>();
        foreach (JsonElement peer in status.GetProperty("peers").EnumerateArray())
        {
            phi[peer.GetProperty("id").GetString()!] = $"{peer.GetProperty("phi").GetDouble():0.00}";
        }

        foreach (JsonElement member in status.GetProperty("members").EnumerateArray())
        {
            string id = member.GetProperty("id").GetString()!;
            string state = member.GetProperty("state").GetString()!;
            string color = state switch { "up" => "green", "joining" or "leaving" or "warming" => "yellow", _ => "red" };
            string shownState = member.GetProperty("self").GetBoolean() ? $"[{color}]{state}[/] (this node)" : $"[{color}]{state}[/] (phi {phi.GetValueOrDefault(id, "?")})";
            table.AddRow(
                Markup.Escape(id),
                shownState,
                Markup.Escape(member.GetProperty("datacenter").GetString()!),
                Markup.Escape(member.GetProperty("rack").GetString()!),
                Markup.Escape(member.GetProperty("address").GetString() ?? "?"),
                member.GetProperty("partitionsOwnedAfterPlan").ValueKind == JsonValueKind.Number
                    ? $"{member.GetProperty("partitionsOwned")} -> {member.GetProperty("partitionsOwnedAfterPlan")}"
                    : member.GetProperty("partitionsOwned").ToString(),
                member.GetProperty("handoffsPending").ToString(),
                member.GetProperty("hintsPendingHere").ToString());
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Keys stored on this node: {status.GetProperty("localKeys")}; hints replayed: {status.GetProperty("hintsReplayed")}; read repairs: {status.GetProperty("readRepairs")}");
        JsonElement handoff = status.GetProperty("handoff");
        string phase = handoff.GetProperty("phase").GetString()!;
        AnsiConsole.MarkupLine(Markup.Escape(
            $"Ring v{status.GetProperty("ringVersion")}{(status.GetProperty("planPending").GetBoolean() ? ", a plan is in progress" : "")}; this node's handoff: {phase}"
            + (phase == "idle" ? "" : $", {handoff.GetProperty("copied")} of {handoff.GetProperty("partitions")} partitions copied")
            + $", {handoff.GetProperty("keysCopied")} keys copied in so far"
            + (handoff.GetProperty("lastError").GetString() is { } error ? $" (last problem: {error})" : "")));
        JsonElement antiEntropy = status.GetProperty("antiEntropy");
        if (antiEntropy.GetProperty("enabled").GetBoolean())
        {
            var partitions = antiEntropy.GetProperty("partitions").EnumerateArray().ToList();
            string last = partitions.Count == 0
                ? "no exchange yet"
                : $"last exchange {DateTimeOffset.FromUnixTimeMilliseconds(partitions.Max(p => p.GetProperty("lastExchangeUnixMs").GetInt64())):u}";
            AnsiConsole.MarkupLine(
                $"Anti-entropy every {antiEntropy.GetProperty("intervalSeconds")} s: {antiEntropy.GetProperty("rounds")} rounds, {partitions.Count} partitions exchanged, " +
                $"{antiEntropy.GetProperty("keysRepaired")} keys repaired, {last}; trees {antiEntropy.GetProperty("treeBytes").GetInt64() / 1024} KiB (per partition: --json)");
        }
        else
        {
            AnsiConsole.MarkupLine("Anti-entropy is off on this node.");
        }
    }
}
