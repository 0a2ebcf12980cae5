using System.CommandLine;
using Dynamite.Server.Configuration;
using Dynamite.Server.Hosting;

namespace Dynamite.Cli;

/// <summary><c>dynamite start</c>: runs one node in the foreground until SIGINT or SIGTERM.</summary>
internal static class StartCommand
{
    public static Command Create()
    {
        var defaults = new NodeConfiguration();
        var nodeId = new Option<string?>("--node-id") { Description = $"This node's unique name in the cluster (default: {defaults.NodeId})." };
        var listen = new Option<string?>("--listen") { Description = $"HOST:PORT for Redis clients (RESP) (default: {defaults.Listen})." };
        var http = new Option<string?>("--http") { Description = $"HOST:PORT for the admin HTTP API (default: {defaults.Http})." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Directory for the node's data files (default: ./data/<node-id>)." };
        var engine = new Option<string?>("--engine") { Description = "Storage engine: sqlite (persistent) or memory (volatile) (default: sqlite)." };
        engine.AcceptOnlyFromAmong("sqlite", "memory");
        var fsync = new Option<string?>("--fsync")
        {
            Description = "sqlite durability: always (fsync every group commit before acknowledging; survives power loss), " +
                "batch (sync about once a second; a power loss may lose the last second), never (the OS decides). " +
                "Every setting survives a crash of the process (default: always).",
        };
        fsync.AcceptOnlyFromAmong("always", "batch", "never");
        var config = new Option<string?>("--config") { Description = "YAML configuration file; flags given on the command line override its keys." };
        var requirePass = new Option<string?>("--requirepass") { Description = "Password clients must AUTH with (default: none)." };
        var maxClients = new Option<int?>("--maxclients") { Description = $"Most clients connected at once (default: {defaults.MaxClients})." };
        var timeout = new Option<int?>("--timeout") { Description = "Close clients idle for this many seconds; 0 never (default: 0)." };
        var maxValueSize = new Option<long?>("--max-value-size") { Description = $"Largest value in bytes a command may store (default: {defaults.MaxValueSize})." };
        var partitionBits = new Option<int?>("--partition-bits") { Description = $"Q: the key space has 2^Q partitions; fixed for the life of the data (default: {defaults.PartitionBits})." };

        var command = new Command("start", "Run a Dynamite node in the foreground until Ctrl-C (SIGINT) or SIGTERM.")
        {
            nodeId, listen, http, dataDir, engine, fsync, config, requirePass, maxClients, timeout, maxValueSize, partitionBits,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            NodeConfiguration configuration;
            try
            {
                configuration = defaults;
                string? configFile = parseResult.GetValue(config);
                if (configFile is not null)
                {
                    configuration = NodeConfigurationFile.Load(configFile).ApplyTo(configuration) with { ConfigFile = configFile };
                }

                string? fsyncText = parseResult.GetValue(fsync);
                configuration = configuration with
                {
                    NodeId = parseResult.GetValue(nodeId) ?? configuration.NodeId,
                    Listen = parseResult.GetValue(listen) ?? configuration.Listen,
                    Http = parseResult.GetValue(http) ?? configuration.Http,
                    DataDir = parseResult.GetValue(dataDir) ?? configuration.DataDir,
                    Engine = parseResult.GetValue(engine) ?? configuration.Engine,
                    Fsync = fsyncText is null ? configuration.Fsync : NodeConfigurationFile.ParseFsync(fsyncText),
                    RequirePass = parseResult.GetValue(requirePass) ?? configuration.RequirePass,
                    MaxClients = parseResult.GetValue(maxClients) ?? configuration.MaxClients,
                    Timeout = parseResult.GetValue(timeout) ?? configuration.Timeout,
                    MaxValueSize = parseResult.GetValue(maxValueSize) ?? configuration.MaxValueSize,
                    PartitionBits = parseResult.GetValue(partitionBits) ?? configuration.PartitionBits,
                };
                if (configuration.MaxValueSize > configuration.ProtoMaxBulkLen)
                {
                    configuration = configuration with
                    {
                        ProtoMaxBulkLen = configuration.MaxValueSize,
                        ClientQueryBufferLimit = Math.Max(configuration.ClientQueryBufferLimit, configuration.MaxValueSize * 2),
                    };
                }

                return await NodeHost.RunAsync(configuration, cancellationToken);
            }
            catch (ConfigurationException exception)
            {
                await Console.Error.WriteLineAsync("dynamite: " + exception.Message);
                return 2;
            }
            catch (IOException exception) when (exception.InnerException is System.Net.Sockets.SocketException || exception.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
            {
                await Console.Error.WriteLineAsync("dynamite: cannot listen: " + exception.Message);
                return 3;
            }
        });
        return command;
    }
}
