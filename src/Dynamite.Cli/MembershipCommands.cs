using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Dynamite.Cli;

/// <summary>
/// <c>dynamite join</c>, <c>leave</c> and <c>remove</c>: membership changes through a node's admin API. Each
/// starts the change and then follows it on the cluster's status until the handoff it causes is done, with a
/// progress bar of partitions still to copy (bounded by <c>--wait</c>; the change itself continues regardless).
/// </summary>
internal static class MembershipCommands
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Status polls that may fail in a row (a busy or briefly unreachable node) before following gives up.</summary>
    private const int MaxFailedPolls = 5;

    public static Command Join()
    {
        var http = AdminOptions.Http();
        var seed = new Option<string>("--seed") { Description = "Peer address HOST:PORT of any node of the cluster to join.", Required = true };
        var wait = WaitOption();
        var command = new Command("join", "Make the (lone) node at --http join the cluster that --seed belongs to; follows its handoff until it is up.")
        {
            http, seed, wait,
        };
        command.SetAction((parseResult, cancellationToken) => AdminOptions.RunAsync(async () =>
        {
            using var client = new AdminClient(parseResult.GetValue(http)!);
            using (JsonDocument joined = await client.PostAsync("/v1/join?seed=" + Uri.EscapeDataString(parseResult.GetValue(seed)!), cancellationToken))
            {
                AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"Joined a cluster of {joined.RootElement.GetProperty("members").GetInt32()} members; copying partitions..."));
            }

            return await FollowAsync(client, parseResult.GetValue(wait), self => self.State == "up" && self.HandoffsPending == 0 && !self.PlanPending, cancellationToken)
                ? 0
                : 1;
        }));
        return command;
    }

    public static Command Leave()
    {
        var http = AdminOptions.Http();
        var wait = WaitOption();
        var command = new Command("leave", "Make the node at --http hand all its partitions to the others, then exit.")
        {
            http, wait,
        };
        command.SetAction((parseResult, cancellationToken) => AdminOptions.RunAsync(async () =>
        {
            using var client = new AdminClient(parseResult.GetValue(http)!);
            using (await client.PostAsync("/v1/leave", cancellationToken))
            {
                AnsiConsole.MarkupLine("Leaving: the other nodes copy this node's partitions; it exits when they have.");
            }

            // Done when the node has exited (its admin API no longer answers) or says it is removed.
            return await FollowAsync(client, parseResult.GetValue(wait), self => self.State == "removed", cancellationToken, goneMeansDone: true) ? 0 : 1;
        }));
        return command;
    }

    public static Command Remove()
    {
        var http = AdminOptions.Http();
        var node = new Argument<string>("NODE_ID") { Description = "The dead member to remove; its partitions are rebuilt from the surviving replicas." };
        var wait = WaitOption();
        var command = new Command("remove", "Remove a dead member: its partitions are reassigned and rebuilt from the other replicas.")
        {
            http, node, wait,
        };
        command.SetAction((parseResult, cancellationToken) => AdminOptions.RunAsync(async () =>
        {
            using var client = new AdminClient(parseResult.GetValue(http)!);
            string target = parseResult.GetValue(node)!;
            using (await client.PostAsync("/v1/remove?node=" + Uri.EscapeDataString(target), cancellationToken))
            {
                AnsiConsole.MarkupLine($"Removing {Markup.Escape(target)}: the others rebuild its partitions.");
            }

            // Done when the map no longer gives it anything and no plan is left (this node may learn both by gossip).
            return await FollowAsync(
                client, parseResult.GetValue(wait), self => !self.PlanPending && self.OwnedBy.GetValueOrDefault(target, -1) == 0, cancellationToken) ? 0 : 1;
        }));
        return command;
    }

    private static Option<int> WaitOption() => new("--wait")
    {
        Description = "Seconds to follow the handoff before returning (the change continues either way).",
        DefaultValueFactory = _ => 600,
    };

    /// <summary>Polls the node's status until <paramref name="done"/> holds, showing partitions still to copy cluster-wide.</summary>
    private static async Task<bool> FollowAsync(AdminClient client, int waitSeconds, Func<SelfView, bool> done, CancellationToken cancellationToken, bool goneMeansDone = false)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(waitSeconds);
        bool finished = false;
        await AnsiConsole.Progress().StartAsync(async progress =>
        {
            ProgressTask task = progress.AddTask("Partitions to copy", maxValue: 1);
            int most = 0;
            int failedPolls = 0;
            while (DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                SelfView view;
                try
                {
                    using JsonDocument status = await client.GetAsync("/v1/cluster", cancellationToken);
                    view = SelfView.Read(status.RootElement);
                }
                catch (AdminException) when (goneMeansDone)
                {
                    finished = true;
                    task.Value = task.MaxValue;
                    return;
                }
                catch (AdminException exception)
                {
                    // The change goes on without us: a failed look at it is reported, not fatal, until too many in a row.
                    failedPolls++;
                    if (failedPolls >= MaxFailedPolls)
                    {
                        throw;
                    }

                    await Console.Error.WriteLineAsync($"dynamite: status poll failed ({failedPolls} of {MaxFailedPolls} in a row): {exception.Message}");
                    await Task.Delay(PollInterval, cancellationToken);
                    continue;
                }

                failedPolls = 0;

                most = Math.Max(most, view.ClusterHandoffsPending);
                task.MaxValue = Math.Max(1, most);
                task.Value = most - view.ClusterHandoffsPending;
                task.Description = $"Partitions to copy (ring v{view.RingVersion}, {view.State})";
                if (done(view))
                {
                    finished = true;
                    task.Value = task.MaxValue;
                    return;
                }

                await Task.Delay(PollInterval, cancellationToken);
            }
        });
        AnsiConsole.MarkupLine(finished ? "[green]Done.[/]" : "[yellow]Still in progress; follow it with dynamite status.[/]");
        return finished;
    }

    /// <summary>The facts of /v1/cluster the verbs follow.</summary>
    private sealed record SelfView(string State, int HandoffsPending, int ClusterHandoffsPending, bool PlanPending, long RingVersion, Dictionary<string, int> OwnedBy)
    {
        public static SelfView Read(JsonElement status)
        {
            string state = "unknown";
            int own = 0;
            int total = 0;
            var owned = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (JsonElement member in status.GetProperty("members").EnumerateArray())
            {
                owned[member.GetProperty("id").GetString()!] = member.GetProperty("partitionsOwned").GetInt32();
                int pending = member.GetProperty("handoffsPending").GetInt32();
                total += pending;
                if (member.GetProperty("self").GetBoolean())
                {
                    state = member.GetProperty("state").GetString() ?? "unknown";
                    own = pending;
                }
            }

            return new SelfView(state, own, total, status.GetProperty("planPending").GetBoolean(), status.GetProperty("ringVersion").GetInt64(), owned);
        }
    }
}
