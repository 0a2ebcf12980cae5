using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>Server commands: COMMAND, INFO, CONFIG GET and SET, DBSIZE, FLUSHALL, FLUSHDB.</summary>
internal static class ServerCommands
{
    private static readonly string DynamiteVersion =
        typeof(ServerCommands).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static readonly string[] DefaultInfoSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "cluster", "keyspace"];

    /// <summary>What INFO all (and everything) adds to the default sections.</summary>
    private static readonly string[] AllInfoSections = [.. DefaultInfoSections, "commandstats"];

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("COMMAND", -1, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, "server", "2.8.13", "Returns detailed information about all commands.", Command),
        new("INFO", -1, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, "server", "1.0.0", "Returns information and statistics about the server.", Info),
        new("CONFIG", -2, CommandFlags.None, 0, 0, 0, "server", "2.0.0", "A container for server configuration commands.", Config),
        new("TIME", 1, CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast, 0, 0, 0, "server", "2.6.0", "Returns the server time.", Time),
        new("DBSIZE", 1, CommandFlags.ReadOnly | CommandFlags.Fast, 0, 0, 0, "server", "1.0.0", "Returns the number of keys in the database.", DbSize),
        new("FLUSHALL", -1, CommandFlags.Write, 0, 0, 0, "server", "1.0.0", "Removes all keys from all databases.", Flush),
        new("FLUSHDB", -1, CommandFlags.Write, 0, 0, 0, "server", "1.0.0", "Remove all keys from the current database.", Flush),
    ];

    /// <summary>TIME: the node's clock as Unix seconds and the microseconds within that second, both as bulk strings.</summary>
    private static ValueTask Time(CommandContext context)
    {
        long microseconds = context.Server.NowUnixMicroseconds;
        context.Writer.WriteArrayHeader(2);
        context.Writer.WriteBulk((microseconds / 1_000_000).ToString(CultureInfo.InvariantCulture));
        context.Writer.WriteBulk((microseconds % 1_000_000).ToString(CultureInfo.InvariantCulture));
        return ValueTask.CompletedTask;
    }

    private static ValueTask DbSize(CommandContext context)
    {
        context.Writer.WriteInteger(context.Store.LiveKeyCount);
        return ValueTask.CompletedTask;
    }

    private static async ValueTask Flush(CommandContext context)
    {
        if (context.ArgumentCount > 2 || (context.ArgumentCount == 2 && !context.ArgumentIs(1, "ASYNC") && !context.ArgumentIs(1, "SYNC")))
        {
            context.Writer.WriteError(RespErrors.Syntax);
            return;
        }

        try
        {
            await context.Store.ClearAsync();
        }
        catch (StoreUnavailableException exception)
        {
            // A cluster flush refused or incomplete: its message is the reply (it names the members concerned).
            context.Writer.WriteError(exception.Message);
            return;
        }
        catch (Exception exception)
        {
            context.Writer.WriteError(CommandContext.StorageFailure(exception));
            return;
        }

        context.Writer.WriteOk();
    }

    private static ValueTask Command(CommandContext context)
    {
        CommandTable table = context.Server.Commands;
        RespWriter writer = context.Writer;
        if (context.ArgumentCount == 1)
        {
            writer.WriteArrayHeader(table.Count);
            foreach (CommandDefinition definition in table.All)
            {
                WriteCommandInfo(writer, definition);
            }

            return ValueTask.CompletedTask;
        }

        string sub = context.ArgumentString(1).ToUpperInvariant();
        switch (sub)
        {
            case "COUNT" when context.ArgumentCount == 2:
                writer.WriteInteger(table.Count);
                return ValueTask.CompletedTask;
            case "LIST" when context.ArgumentCount == 2:
                writer.WriteArrayHeader(table.Count);
                foreach (CommandDefinition definition in table.All)
                {
                    writer.WriteBulk(definition.NameBytes);
                }

                return ValueTask.CompletedTask;
            case "INFO":
                if (context.ArgumentCount == 2)
                {
                    return Command(WithoutArguments(context));
                }

                writer.WriteArrayHeader(context.ArgumentCount - 2);
                for (int i = 2; i < context.ArgumentCount; i++)
                {
                    if (table.TryGet(context.Argument(i), out CommandDefinition? definition))
                    {
                        WriteCommandInfo(writer, definition);
                    }
                    else
                    {
                        writer.WriteNullArray();
                    }
                }

                return ValueTask.CompletedTask;
            case "DOCS":
            {
                var selected = new List<CommandDefinition>();
                if (context.ArgumentCount == 2)
                {
                    selected.AddRange(table.All);
                }
                else
                {
                    for (int i = 2; i < context.ArgumentCount; i++)
                    {
                        if (table.TryGet(context.Argument(i), out CommandDefinition? definition))
                        {
                            selected.Add(definition);
                        }
                    }
                }

                writer.WriteMapHeader(selected.Count);
                foreach (CommandDefinition definition in selected)
                {
                    writer.WriteBulk(definition.NameBytes);
                    writer.WriteMapHeader(4);
                    writer.WriteBulk("summary"u8);
                    writer.WriteBulk(definition.Summary);
                    writer.WriteBulk("since"u8);
                    writer.WriteBulk(definition.Since);
                    writer.WriteBulk("group"u8);
                    writer.WriteBulk(definition.Group);
                    writer.WriteBulk("complexity"u8);
                    writer.WriteBulk(definition.KeyStep == 0 ? "O(1)" : "O(N) where N is the number of keys");
                }

                return ValueTask.CompletedTask;
            }

            case "GETKEYS" when context.ArgumentCount >= 3:
                return GetKeys(context, table);
            case "HELP" when context.ArgumentCount == 2:
                string[] help =
                [
                    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "(no subcommand)", "    Return details about all commands.",
                    "COUNT", "    Return the total number of commands in this server.",
                    "LIST", "    Return a list of all commands in this server.",
                    "INFO [<command-name> ...]", "    Return details about multiple commands.",
                    "DOCS [<command-name> ...]", "    Return documentation details about multiple commands.",
                    "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
                    "HELP", "    Print this help.",
                ];
                writer.WriteArrayHeader(help.Length);
                foreach (string line in help)
                {
                    writer.WriteSimpleString(line);
                }

                return ValueTask.CompletedTask;
            case "COUNT" or "LIST" or "HELP" or "GETKEYS":
                return context.WrongArgumentCount("command|" + sub.ToLowerInvariant());
            default:
                return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "COMMAND"));
        }
    }

    /// <summary>COMMAND GETKEYS command arg...: the keys that command would name, with redis-server's refusals in its order.</summary>
    private static ValueTask GetKeys(CommandContext context, CommandTable table)
    {
        byte[][] arguments = [.. Enumerable.Range(2, context.ArgumentCount - 2).Select(context.OwnedArgument)];
        if (!table.TryGet(arguments[0], out CommandDefinition? command))
        {
            return context.Error("ERR Invalid command specified");
        }

        if (command.FirstKey <= 0 && command.KeyCountAt == 0)
        {
            return context.Error("ERR The command has no key arguments");
        }

        if (!command.AcceptsArgumentCount(arguments.Length))
        {
            return context.Error("ERR Invalid number of arguments specified for command");
        }

        var keys = command.KeysOf(arguments).ToList();
        // Scripts and functions may name no keys (redis-server's no-mandatory-keys flag); other commands must.
        if (keys.Count == 0 && command.Group != "scripting")
        {
            return context.Error("ERR Invalid arguments specified for command");
        }

        context.Writer.WriteArrayHeader(keys.Count);
        foreach (byte[] key in keys)
        {
            context.Writer.WriteBulk(key);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>COMMAND INFO with no names lists every command, like plain COMMAND.</summary>
    private static CommandContext WithoutArguments(CommandContext context)
    {
        context.Request.Truncate(1);
        return context;
    }

    private static void WriteCommandInfo(RespWriter writer, CommandDefinition definition)
    {
        writer.WriteArrayHeader(10);
        writer.WriteBulk(definition.NameBytes);
        writer.WriteInteger(definition.Arity);
        var flags = new List<string>();
        AddFlag(flags, definition.Flags, CommandFlags.Write, "write");
        AddFlag(flags, definition.Flags, CommandFlags.ReadOnly, "readonly");
        AddFlag(flags, definition.Flags, CommandFlags.DenyOom, "denyoom");
        AddFlag(flags, definition.Flags, CommandFlags.Admin, "admin");
        AddFlag(flags, definition.Flags, CommandFlags.NoAuth, "no_auth");
        AddFlag(flags, definition.Flags, CommandFlags.Loading, "loading");
        AddFlag(flags, definition.Flags, CommandFlags.Stale, "stale");
        AddFlag(flags, definition.Flags, CommandFlags.Fast, "fast");
        AddFlag(flags, definition.Flags, CommandFlags.PubSub, "pubsub");
        writer.WriteSetHeader(flags.Count);
        foreach (string flag in flags)
        {
            writer.WriteSimpleString(flag);
        }

        writer.WriteInteger(definition.FirstKey);
        writer.WriteInteger(definition.LastKey);
        writer.WriteInteger(definition.KeyStep);
        writer.WriteSetHeader(1);
        writer.WriteSimpleString("@" + definition.Group);
        writer.WriteArrayHeader(0);
        writer.WriteArrayHeader(0);
        writer.WriteArrayHeader(0);
    }

    private static void AddFlag(List<string> flags, CommandFlags all, CommandFlags flag, string name)
    {
        if ((all & flag) != 0)
        {
            flags.Add(name);
        }
    }

    private static ValueTask Info(CommandContext context)
    {
        var sections = new List<string>();
        if (context.ArgumentCount == 1)
        {
            sections.AddRange(DefaultInfoSections);
        }
        else
        {
            for (int i = 1; i < context.ArgumentCount; i++)
            {
                string section = context.ArgumentString(i).ToLowerInvariant();
                if (section is "all" or "everything")
                {
                    sections.AddRange(AllInfoSections);
                }
                else if (section is "default")
                {
                    sections.AddRange(DefaultInfoSections);
                }
                else if (!sections.Contains(section))
                {
                    sections.Add(section);
                }
            }
        }

        var text = new StringBuilder();
        foreach (string section in sections.Distinct())
        {
            IReadOnlyList<KeyValuePair<string, string>>? lines = InfoSection(context, section);
            if (lines is null)
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append("\r\n");
            }

            // redis-server's headers: "# Server", "# Commandstats", but "# CPU".
            text.Append("# ").Append(section == "cpu" ? "CPU" : char.ToUpperInvariant(section[0]) + section[1..]).Append("\r\n");
            foreach (KeyValuePair<string, string> line in lines)
            {
                text.Append(line.Key).Append(':').Append(line.Value).Append("\r\n");
            }
        }

        context.Writer.WriteVerbatimText(text.ToString());
        return ValueTask.CompletedTask;
    }

    private static IReadOnlyList<KeyValuePair<string, string>>? InfoSection(CommandContext context, string section)
    {
        RespServer server = context.Server;
        long uptimeSeconds = (server.NowUnixMs - server.StartedAtUnixMs) / 1000;
        List<KeyValuePair<string, string>>? lines = section switch
        {
            "server" =>
            [
                new("redis_version", RespServer.CompatibleRedisVersion),
                new("dynamite_version", DynamiteVersion),
                new("dynamite_node_id", server.Options.NodeId),
                new("redis_mode", server.Options.Mode),
                new("os", $"{RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}"),
                new("arch_bits", (IntPtr.Size * 8).ToString(CultureInfo.InvariantCulture)),
                new("runtime", RuntimeInformation.FrameworkDescription),
                new("process_id", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)),
                new("run_id", server.RunId),
                new("tcp_port", server.Options.Port.ToString(CultureInfo.InvariantCulture)),
                new("uptime_in_seconds", uptimeSeconds.ToString(CultureInfo.InvariantCulture)),
                new("uptime_in_days", (uptimeSeconds / 86400).ToString(CultureInfo.InvariantCulture)),
                new("executable", Environment.ProcessPath ?? ""),
                new("config_file", server.Options.ConfigFile),
            ],
            "clients" =>
            [
                new("connected_clients", server.Clients.Count.ToString(CultureInfo.InvariantCulture)),
                new("maxclients", server.Options.MaxClients.ToString(CultureInfo.InvariantCulture)),
                new("blocked_clients", server.BlockedClients.Count.ToString(CultureInfo.InvariantCulture)),
                new("tracking_clients", server.Tracking.ClientCount.ToString(CultureInfo.InvariantCulture)),
            ],
            "memory" =>
            [
                new("used_memory", server.Memory.UsedBytes.ToString(CultureInfo.InvariantCulture)),
                new("used_memory_rss", Environment.WorkingSet.ToString(CultureInfo.InvariantCulture)),
                new("used_memory_lua", server.ScriptMemoryBytes.ToString(CultureInfo.InvariantCulture)),
                new("used_memory_scripts", server.ScriptCacheBytes.ToString(CultureInfo.InvariantCulture)),
                new("number_of_cached_scripts", server.CachedScripts.ToString(CultureInfo.InvariantCulture)),
                new("number_of_functions", server.LoadedFunctions.ToString(CultureInfo.InvariantCulture)),
                new("maxmemory", server.Memory.MaxBytes.ToString(CultureInfo.InvariantCulture)),
                new("maxmemory_human", Memory.MemorySize.Human(server.Memory.MaxBytes)),
                new("maxmemory_policy", Memory.EvictionPolicies.NameOf(server.Memory.Policy)),
                new("mem_not_counted_for_evict", "0"),
                new("lazyfree_pending_objects", "0"),
            ],
            "persistence" =>
            [
                new("loading", "0"),
                new("storage_engine", server.Options.EngineName),
                new("rdb_changes_since_last_save", server.Store.ChangeCount.ToString(CultureInfo.InvariantCulture)),
            ],
            "stats" =>
            [
                new("total_connections_received", server.Clients.TotalConnections.ToString(CultureInfo.InvariantCulture)),
                new("total_commands_processed", server.Clients.TotalCommands.ToString(CultureInfo.InvariantCulture)),
                new("rejected_connections", server.Clients.RejectedConnections.ToString(CultureInfo.InvariantCulture)),
                new("keyspace_hits", server.Clients.KeyspaceHits.ToString(CultureInfo.InvariantCulture)),
                new("keyspace_misses", server.Clients.KeyspaceMisses.ToString(CultureInfo.InvariantCulture)),
                new("evicted_keys", server.Memory.EvictedKeys.ToString(CultureInfo.InvariantCulture)),
                new("pubsub_channels", server.PubSub.ActiveChannels(PubSub.SubscriptionKind.Channel, null).Count.ToString(CultureInfo.InvariantCulture)),
                new("pubsub_patterns", server.PubSub.PatternCount.ToString(CultureInfo.InvariantCulture)),
                new("pubsubshard_channels", server.PubSub.ActiveChannels(PubSub.SubscriptionKind.ShardChannel, null).Count.ToString(CultureInfo.InvariantCulture)),
                new("tracking_total_keys", server.Tracking.KeyCount.ToString(CultureInfo.InvariantCulture)),
                new("tracking_total_items", server.Tracking.ItemCount.ToString(CultureInfo.InvariantCulture)),
                new("tracking_total_prefixes", server.Tracking.PrefixCount.ToString(CultureInfo.InvariantCulture)),
            ],
            "replication" =>
            [
                new("role", "master"),
                new("connected_slaves", "0"),
                // No Redis replication stream exists (replicas are Dynamo replicas, INFO cluster): its offset stays 0.
                new("master_repl_offset", "0"),
            ],
            "cpu" => CpuLines(),
            "commandstats" => CommandStatsLines(server.Commands),
            "keyspace" => context.Store.KeyCount == 0
                ? []
                : [new("db0", $"keys={context.Store.KeyCount},expires={context.Store.KeysWithExpiryCount},avg_ttl=0")],
            _ => null,
        };

        if (server.Options.ExtraInfo?.Invoke(section) is { } more)
        {
            lines ??= [];
            lines.AddRange(more);
        }

        return lines;
    }

    /// <summary>INFO cpu: the process's system and user CPU seconds (a node starts no child processes).</summary>
    private static List<KeyValuePair<string, string>> CpuLines()
    {
        using Process process = Process.GetCurrentProcess();
        return
        [
            new("used_cpu_sys", process.PrivilegedProcessorTime.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture)),
            new("used_cpu_user", process.UserProcessorTime.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture)),
            new("used_cpu_sys_children", "0.000000"),
            new("used_cpu_user_children", "0.000000"),
        ];
    }

    /// <summary>INFO commandstats: a cmdstat line for each command called or refused since the node started.</summary>
    private static List<KeyValuePair<string, string>> CommandStatsLines(CommandTable commands)
    {
        var lines = new List<KeyValuePair<string, string>>();
        foreach (CommandDefinition command in commands.All.OrderBy(c => c.LowerName, StringComparer.Ordinal))
        {
            (long calls, long microseconds, long rejected, long failed) = command.Stats.Read();
            if (calls + rejected > 0)
            {
                lines.Add(new("cmdstat_" + command.LowerName, string.Create(CultureInfo.InvariantCulture,
                    $"calls={calls},usec={microseconds},usec_per_call={(calls == 0 ? 0 : (double)microseconds / calls):0.00},rejected_calls={rejected},failed_calls={failed}")));
            }
        }

        return lines;
    }

    private static ValueTask Config(CommandContext context)
    {
        string sub = context.ArgumentString(1).ToUpperInvariant();
        switch (sub)
        {
            case "GET" when context.ArgumentCount >= 3:
            {
                IReadOnlyList<KeyValuePair<string, string>> parameters = ConfigParameters(context.Server);
                var matched = new List<KeyValuePair<string, string>>();
                for (int i = 2; i < context.ArgumentCount; i++)
                {
                    byte[] pattern = context.Argument(i).ToArray();
                    foreach (KeyValuePair<string, string> parameter in parameters)
                    {
                        if (GlobPattern.IsMatch(pattern, Encoding.ASCII.GetBytes(parameter.Key), ignoreCase: true)
                            && !matched.Exists(m => m.Key == parameter.Key))
                        {
                            matched.Add(parameter);
                        }
                    }
                }

                context.Writer.WriteMapHeader(matched.Count);
                foreach (KeyValuePair<string, string> parameter in matched)
                {
                    context.Writer.WriteBulk(parameter.Key);
                    context.Writer.WriteBulk(parameter.Value);
                }

                return ValueTask.CompletedTask;
            }

            case "SET" when context.ArgumentCount >= 4 && context.ArgumentCount % 2 == 0:
                return ConfigSet(context);
            case "SET":
                return context.WrongArgumentCount("config|set");
            case "RESETSTAT" or "REWRITE":
                return context.Error($"ERR CONFIG {sub} is not supported: Dynamite is configured by its YAML file and flags at start");
            case "GET":
                return context.WrongArgumentCount("config|get");
            default:
                return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "CONFIG"));
        }
    }

    /// <summary>
    /// CONFIG SET name value [name value ...]: only the encoding thresholds (<see cref="EncodingParameters"/>) and the
    /// pub/sub output limit can be set; every pair is checked before any is applied, so a refused call changes nothing. Another parameter may be
    /// "set" to the value CONFIG GET reports for it, which changes nothing (Redis's test harness sets <c>save ""</c>).
    /// </summary>
    private static ValueTask ConfigSet(CommandContext context)
    {
        var changes = new (string? Name, long Value)[(context.ArgumentCount - 2) / 2];
        PubSub.OutputBufferLimit? pubSubLimit = null;
        TimeSpan? busyThreshold = null;
        PubSub.KeyspaceEventClasses? keyspaceClasses = null;
        bool? protectedMode = null;
        int? aclLogLength = null;
        int? trackingKeys = null;
        long? maxMemory = null;
        Memory.EvictionPolicy? evictionPolicy = null;
        int? evictionSamples = null;
        for (int i = 0; i < changes.Length; i++)
        {
            string name = context.ArgumentString(2 + (2 * i));
            if (name.Equals("maxmemory", StringComparison.OrdinalIgnoreCase))
            {
                if (!Memory.MemorySize.TryParse(context.ArgumentString(3 + (2 * i)), out long bytes))
                {
                    return context.Error("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value");
                }

                maxMemory = bytes;
                continue;
            }

            if (name.Equals("maxmemory-policy", StringComparison.OrdinalIgnoreCase))
            {
                if (!Memory.EvictionPolicies.TryParse(context.ArgumentString(3 + (2 * i)), out Memory.EvictionPolicy policy))
                {
                    return context.Error("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: " +
                        string.Join(", ", Memory.EvictionPolicies.All));
                }

                if (policy != Memory.EvictionPolicy.NoEviction && context.Server.Options.Mode == "cluster")
                {
                    return context.Error("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - a cluster node only takes noeviction: " +
                        "the keys it stores are replicas, and evicting one would be a delete every replica takes");
                }

                evictionPolicy = policy;
                continue;
            }

            if (name.Equals("maxmemory-samples", StringComparison.OrdinalIgnoreCase))
            {
                if (!RespNumbers.TryParseInt64(context.Argument(3 + (2 * i)), out long samples) || samples is < 1 or > 64)
                {
                    return context.Error("ERR CONFIG SET failed (possibly related to argument 'maxmemory-samples') - argument must be between 1 and 64 inclusive");
                }

                evictionSamples = (int)samples;
                continue;
            }

            if (name.Equals("tracking-table-max-keys", StringComparison.OrdinalIgnoreCase))
            {
                if (!RespNumbers.TryParseInt64(context.Argument(3 + (2 * i)), out long keys) || keys is < 0 or > int.MaxValue)
                {
                    return context.Error("ERR CONFIG SET failed (possibly related to argument 'tracking-table-max-keys') - argument couldn't be parsed into an integer");
                }

                trackingKeys = (int)keys;
                continue;
            }

            if (name.Equals("acllog-max-len", StringComparison.OrdinalIgnoreCase))
            {
                if (!RespNumbers.TryParseInt64(context.Argument(3 + (2 * i)), out long length) || length is < 0 or > int.MaxValue)
                {
                    return context.Error("ERR CONFIG SET failed (possibly related to argument 'acllog-max-len') - argument couldn't be parsed into an integer");
                }

                aclLogLength = (int)length;
                continue;
            }

            if (name.Equals("lua-time-limit", StringComparison.OrdinalIgnoreCase) || name.Equals("busy-reply-threshold", StringComparison.OrdinalIgnoreCase))
            {
                if (!RespNumbers.TryParseInt64(context.Argument(3 + (2 * i)), out long milliseconds) || milliseconds < 0)
                {
                    return context.Error($"ERR CONFIG SET failed (possibly related to argument '{RespErrors.Truncate(name)}') - argument couldn't be parsed into an integer");
                }

                busyThreshold = TimeSpan.FromMilliseconds(milliseconds);
                continue;
            }

            if (name.Equals("protected-mode", StringComparison.OrdinalIgnoreCase))
            {
                protectedMode = context.ArgumentString(3 + (2 * i)).ToLowerInvariant() switch
                {
                    "yes" => true,
                    "no" => false,
                    _ => null,
                };
                if (protectedMode is null)
                {
                    return context.Error("ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'");
                }

                continue;
            }

            if (name.Equals("notify-keyspace-events", StringComparison.OrdinalIgnoreCase))
            {
                keyspaceClasses = PubSub.KeyspaceNotifier.Parse(context.ArgumentString(3 + (2 * i)));
                if (keyspaceClasses is null)
                {
                    return context.Error("ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
                }

                continue;
            }

            if (string.Equals(name, "client-output-buffer-limit", StringComparison.OrdinalIgnoreCase))
            {
                pubSubLimit = PubSub.OutputBufferLimitSetting.Parse(context.ArgumentString(3 + (2 * i)), pubSubLimit ?? context.Server.PubSub.Limit);
                if (pubSubLimit is null)
                {
                    return context.Error("ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid arguments (only the pubsub class can change)");
                }

                continue;
            }

            if (EncodingParameters.Canonical(name) is not { } canonical)
            {
                if (IsCurrentValue(context.Server, name, context.ArgumentString(3 + (2 * i))))
                {
                    continue;
                }

                return context.Error($"ERR CONFIG SET failed (possibly related to argument '{RespErrors.Truncate(name)}') - not settable at runtime: Dynamite is configured by its YAML file and flags at start");
            }

            if (!RespNumbers.TryParseInt64(context.Argument(3 + (2 * i)), out long value))
            {
                return context.Error($"ERR CONFIG SET failed (possibly related to argument '{RespErrors.Truncate(name)}') - argument couldn't be parsed into an integer");
            }

            changes[i] = (canonical, value);
        }

        if (evictionPolicy is { } newPolicy)
        {
            context.Server.Memory.SetPolicy(newPolicy, context.Server.NowUnixMs);
        }

        if (evictionSamples is { } newSamples)
        {
            context.Server.Memory.Samples = newSamples;
        }

        if (aclLogLength is { } maxEntries)
        {
            context.Server.Acl.Log.MaxEntries = maxEntries;
        }

        if (trackingKeys is { } maxKeys)
        {
            context.Server.Tracking.MaxKeys = maxKeys;
        }

        if (protectedMode is { } mode)
        {
            context.Server.ProtectedMode = mode;
        }

        foreach ((string? name, long value) in changes)
        {
            if (name is not null)
            {
                context.Server.EncodingParameters.Set(name, value);
            }
        }

        if (pubSubLimit is not null)
        {
            context.Server.PubSub.Limit = pubSubLimit;
        }

        if (keyspaceClasses is { } classes)
        {
            context.Server.Keyspace.Classes = classes;
        }

        if (busyThreshold is { } threshold)
        {
            context.Server.Scripts.BusyThreshold = threshold;
        }

        if (maxMemory is { } newLimit)
        {
            // As redis-server: a limit below what the node uses starts eviction at once (the policy permitting).
            context.Server.Memory.MaxBytes = newLimit;
            return EvictThenOkAsync(context);
        }

        context.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }

    private static async ValueTask EvictThenOkAsync(CommandContext context)
    {
        // Inside EXEC or a script the gate is held alone by the transaction or script that runs this.
        ClientSession client = context.Client;
        await Memory.KeyEvictor.FreeMemoryAsync(context.Server, client.Closed, callerHoldsGate: context.HoldsSharedGate || client.InExec || client.IsScript);
        if (context.Client.Outbox is { } outbox && !context.Writer.Suppressed)
        {
            // As for any command: the invalidations of keys it evicted go out before its reply.
            outbox.WriteTo(context.Writer);
        }

        context.Writer.WriteOk();
    }

    private static bool IsCurrentValue(RespServer server, string name, string value) =>
        ConfigParameters(server).Any(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase) && p.Value == value);

    private static IReadOnlyList<KeyValuePair<string, string>> ConfigParameters(RespServer server)
    {
        RespServerOptions options = server.Options;
        string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
        return
        [
            new("port", Number(options.Port)),
            new("maxclients", Number(options.MaxClients)),
            new("timeout", Number((long)options.IdleTimeout.TotalSeconds)),
            new("requirepass", options.RequirePass ?? ""),
            new("proto-max-bulk-len", Number(options.Limits.MaxBulkBytes)),
            new("client-query-buffer-limit", Number(options.Limits.MaxQueryBufferBytes)),
            new("max-value-size", Number(options.Limits.MaxValueBytes)),
            new("databases", "1"),
            new("maxmemory", Number(server.Memory.MaxBytes)),
            new("maxmemory-policy", Memory.EvictionPolicies.NameOf(server.Memory.Policy)),
            new("maxmemory-samples", Number(server.Memory.Samples)),
            new("appendonly", "no"),
            new("save", ""),
            new("replica-read-only", "yes"),
            new("slave-read-only", "yes"),
            new("cluster-enabled", "no"),
            new("client-output-buffer-limit", PubSub.OutputBufferLimitSetting.Format(server.PubSub.Limit)),
            new("notify-keyspace-events", server.Keyspace.Setting),
            new("protected-mode", server.ProtectedMode ? "yes" : "no"),
            new("acllog-max-len", Number(server.Acl.Log.MaxEntries)),
            new("tracking-table-max-keys", Number(server.Tracking.MaxKeys)),
            new("lua-time-limit", Number((long)server.ScriptBusyThreshold.TotalMilliseconds)),
            new("busy-reply-threshold", Number((long)server.ScriptBusyThreshold.TotalMilliseconds)),
            .. server.EncodingParameters.All(),
        ];
    }
}
