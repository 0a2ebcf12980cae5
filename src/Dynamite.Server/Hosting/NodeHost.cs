using System.Net;
using Dynamite.Cluster.Expiry;
using Dynamite.Cluster.Local;
using Dynamite.Cluster.Membership;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp;
using Dynamite.Server.Admin;
using Dynamite.Server.Configuration;
using Dynamite.Server.Metrics;
using Dynamite.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dynamite.Server.Hosting;

/// <summary>
/// Builds and runs one node: the storage engine, the RESP listener (a Kestrel connection handler) and the
/// admin HTTP API, on one generic host. Shutdown (SIGINT/SIGTERM): Kestrel stops accepting, every
/// connection finishes the batch it is running and flushes its replies, then the engine is flushed and closed.
/// </summary>
public static class NodeHost
{
    /// <summary>How long in-flight requests get to finish on shutdown before connections are cut.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(NodeConfiguration configuration, CancellationToken cancellationToken)
    {
        IPEndPoint respEndpoint = EndpointParser.Parse(configuration.Listen, "--listen");
        IPEndPoint httpEndpoint = EndpointParser.Parse(configuration.Http, "--http");
        var limits = new RespLimits
        {
            MaxValueBytes = configuration.MaxValueSize,
            MaxBulkBytes = configuration.ProtoMaxBulkLen,
            MaxQueryBufferBytes = configuration.ClientQueryBufferLimit,
        };
        try
        {
            limits.Validate();
        }
        catch (ArgumentException exception)
        {
            throw new ConfigurationException(exception.Message);
        }

        using var metrics = new NodeMetrics();
        IStorageEngine engine = StorageEngineFactory.Open(configuration, metrics);
        metrics.ObserveDataEngine(engine);
        try
        {
            WebApplication app = Build(configuration, engine, metrics, limits, respEndpoint, httpEndpoint);
            await using (app.ConfigureAwait(false))
            {
                ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Dynamite");
                ClusterServices? cluster = app.Services.GetService<ClusterServices>();
                if (cluster is not null)
                {
                    // A node that left (its handoff is complete and the cluster no longer counts it) stops by itself,
                    // once the hints it keeps for other nodes are delivered.
                    cluster.Membership.Departed += () => _ = StopAfterDepartureAsync(cluster, app, logger);
                }

                cluster?.Start();
                await app.StartAsync(cancellationToken);
                logger.LogInformation(
                    "Dynamite node {NodeId} ready: RESP on {Resp}, admin HTTP on http://{Http}, engine {Engine} (fsync {Fsync}) in {DataDir}",
                    configuration.NodeId,
                    ((respEndpoint.Port == 0 ? "" : respEndpoint + " ") + (configuration.TlsPort == 0 ? "" : $"TLS {new IPEndPoint(respEndpoint.Address, configuration.TlsPort)}")).Trim(),
                    httpEndpoint, engine.Name, configuration.Fsync.ToString().ToLowerInvariant(), Path.GetFullPath(configuration.ResolvedDataDir));
                // Returns after SIGINT/SIGTERM (or cancellation) once the host, Kestrel included, has stopped.
                await app.WaitForShutdownAsync(cancellationToken);
                if (cluster is not null)
                {
                    logger.LogInformation("Clients closed; stopping the peer protocol");
                    await cluster.DisposeAsync();
                }

                logger.LogInformation("Connections closed; flushing the {Engine} engine", engine.Name);
            }
        }
        finally
        {
            using var flushTimeout = new CancellationTokenSource(ShutdownTimeout);
            await engine.FlushAsync(flushTimeout.Token);
            await engine.DisposeAsync();
        }

        return 0;
    }

    private static WebApplication Build(NodeConfiguration configuration, IStorageEngine engine, NodeMetrics metrics, RespLimits limits, IPEndPoint respEndpoint, IPEndPoint httpEndpoint)
    {
        // The host's defaults watch the content root (the working directory, which holds ./data by default) for
        // appsettings.json changes: a FileSystemWatcher then handled an inotify event for every WAL write (1.5% of a
        // cluster node's CPU under SET load). The node reads no appsettings.json, so nothing is watched, and the
        // content root is the program's own directory, never the data.
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
        });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        // A refused TLS handshake (garbage, a plaintext client, a certificate of another CA) is worth a line: Kestrel
        // reports it at debug level only.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel.Https", LogLevel.Debug);
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = ShutdownTimeout);

        TimeProvider clock = TimeProvider.System;
        bool clustered = configuration.Seeds.Count > 0;
        if (clustered)
        {
            builder.Services.AddSingleton(provider =>
            {
                var cluster = ClusterServices.Create(configuration, engine, clock, provider.GetRequiredService<ILoggerFactory>(), metrics);
                metrics.ObserveCluster(cluster);
                return cluster;
            });
            builder.Services.AddSingleton(provider => new ClusterStatusView(provider.GetRequiredService<ClusterServices>(), metrics.Reader));
            builder.Services.AddSingleton(provider => new ClientTopologyView(provider.GetRequiredService<ClusterServices>()));
        }

        builder.Services.AddSingleton(provider =>
        {
            var server = new RespServer(
                clustered ? provider.GetRequiredService<ClusterServices>().Store : new LocalKeyValueStore(engine, clock),
                RespOptions(configuration, engine, limits, respEndpoint, metrics, provider.GetService<ClusterStatusView>(), provider.GetService<ClientTopologyView>())
                    with
                    {
                        MessageRelay = clustered ? provider.GetRequiredService<ClusterServices>().Node.MessageRelay : null,
                        ScriptLogger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("Dynamite.Scripts"),
                        Save = cancellationToken => engine.FlushAsync(cancellationToken).AsTask(),
                        Shutdown = () => provider.GetRequiredService<IHostApplicationLifetime>().StopApplication(),
                    },
                clock,
                metrics.Resp);
            if (clustered)
            {
                // Writes other nodes forward here (keys this node is a primary of) run through this front end, and
                // messages published on other nodes reach its subscribers.
                provider.GetRequiredService<ClusterServices>().Node.ForwardedCommands.Runner = new ForwardedCommandRunner(server, clock);
                provider.GetRequiredService<ClusterServices>().Node.MessageRelay.Sink = server.PubSub;

                // ACL users are cluster state: set through any node, enforced by every node.
                ClusterAclReplication.Attach(provider.GetRequiredService<ClusterServices>().Node.Membership, server,
                    provider.GetRequiredService<ILoggerFactory>().CreateLogger("Dynamite.Acl"));
            }

            // Clients blocked on keys wake on any commit to them, a replica write from another node too.
            engine.ChangeListener = server.BlockedClients;
            provider.GetRequiredService<ExpirySweeper>().Listener = new ExpiredKeyAnnouncer(server.Keyspace, server.Tracking);

            return server;
        });
        // Owned by the host, which disposes it when it stops; the meter it reads is disposed after the host.
        builder.Services.AddSingleton(_ => PrometheusEndpoint.CreateProvider(metrics));
        builder.Services.AddSingleton(metrics);
        builder.Services.AddSingleton(clock);
        builder.Services.AddSingleton(engine);
        builder.Services.AddSingleton(configuration);
        builder.Services.AddSingleton<ExpirySweeper>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<ExpirySweeper>());
        ConfigureKestrel(builder, configuration, limits, respEndpoint, httpEndpoint);
        WebApplication app = builder.Build();
        AdminApi.Map(app);
        return app;
    }

    /// <summary>Hints this node keeps for members still in the cluster (hints for removed nodes can never be delivered).</summary>
    private static long DeliverableHints(ClusterServices cluster) =>
        cluster.Hints.CountsByNode().Where(pair => cluster.Membership.State.TryGetMember(pair.Key, out var member) && member!.Status != Dynamite.Core.Gossip.MemberStatus.Removed).Sum(pair => pair.Value);

    private static async Task StopAfterDepartureAsync(ClusterServices cluster, WebApplication app, ILogger logger)
    {
        TimeSpan limit = TimeSpan.FromSeconds(60);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (DeliverableHints(cluster) > 0 && waited.Elapsed < limit)
        {
            cluster.Handoff.Wake();
            await Task.Delay(250);
        }

        if (DeliverableHints(cluster) is var left and > 0)
        {
            logger.LogWarning("Leaving with {Count} hints undelivered after {Seconds} s; anti-entropy on the remaining replicas covers them", left, limit.TotalSeconds);
        }

        IReadOnlyList<NodeId> unreached = await cluster.Node.Gossip.AnnounceDepartureAsync(GossipLoop.DepartureAnnouncementLimit, app.Lifetime.ApplicationStopping);
        if (unreached.Count > 0)
        {
            logger.LogWarning("Leaving although {Members} did not learn of the departure within {Seconds} s; remove this node through another member if they keep it",
                string.Join(", ", unreached), GossipLoop.DepartureAnnouncementLimit.TotalSeconds);
        }

        logger.LogInformation("This node has left the cluster: shutting down");
        app.Lifetime.StopApplication();
    }

    private static RespServerOptions RespOptions(
        NodeConfiguration configuration, IStorageEngine engine, RespLimits limits, IPEndPoint respEndpoint, NodeMetrics metrics, ClusterStatusView? cluster, ClientTopologyView? topology) =>
        new()
        {
            Limits = limits,
            RequirePass = configuration.RequirePass,
            AclFile = configuration.AclFile is null ? null : Path.GetFullPath(configuration.AclFile),
            ProtectedMode = configuration.ProtectedMode,
            MaxClients = configuration.MaxClients,
            MaxMemoryBytes = configuration.MaxMemory,
            MaxMemoryPolicy = Protocols.Resp.Memory.EvictionPolicies.TryParse(configuration.MaxMemoryPolicy, out var policy) ? policy : default,
            IdleTimeout = TimeSpan.FromSeconds(configuration.Timeout),
            NodeId = configuration.NodeId,
            Port = respEndpoint.Port,
            ConfigFile = configuration.ConfigFile is null ? "" : Path.GetFullPath(configuration.ConfigFile),
            EngineName = engine.Name,
            ExtraInfo = section => section switch
            {
                "stats" => CommandStats.InfoLines(metrics.Reader.Snapshot()),
                "cluster" => cluster?.InfoLines(),
                _ => null,
            },
            ClusterTopology = topology is null ? null : topology.Snapshot,
        };

    private static void ConfigureKestrel(WebApplicationBuilder builder, NodeConfiguration configuration, RespLimits limits, IPEndPoint respEndpoint, IPEndPoint httpEndpoint)
    {
        builder.WebHost.UseSockets(options =>
        {
            // PERFORMANCE.md: run socket continuations inline (with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1,
            // set by Program) and skip the zero-byte read before each read.
            options.UnsafePreferInlineScheduling = true;
            options.WaitForDataBeforeAllocatingBuffer = false;
            // The parser enforces the query buffer limit itself; the transport must not pause below it,
            // or a request larger than its pause threshold could never complete.
            options.MaxReadBufferSize = limits.MaxQueryBufferBytes + (1024 * 1024);
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // The TLS port is bound before the plain one (Kestrel binds in this order and serves each as it is bound):
            // a client that waits for the plain port to answer then finds the TLS port listening too.
            if (configuration.TlsPort > 0)
            {
                // The same RESP front end behind TLS (redis-server's tls-port), on the --listen host.
                kestrel.Listen(new IPEndPoint(respEndpoint.Address, configuration.TlsPort), listen =>
                {
                    var certificates = new ReloadingCertificates(configuration.TlsCertFile!, configuration.TlsKeyFile!, configuration.TlsCaCertFile,
                        TimeProvider.System, listen.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Dynamite.Tls"));
                    certificates.Load();
                    listen.UseHttps(ClientTlsOptions.Build(configuration, certificates));
                    listen.UseConnectionHandler<RespConnectionHandler>();
                });
            }

            if (respEndpoint.Port != 0)
            {
                kestrel.Listen(respEndpoint, listen => listen.UseConnectionHandler<RespConnectionHandler>());
            }

            if (configuration.HttpTls)
            {
                // The admin API over HTTPS with the node's certificate (reloaded as the TLS port's is); who may change the
                // cluster is decided by its ACL credentials, so no client certificate is asked for.
                kestrel.Listen(httpEndpoint, listen =>
                {
                    var certificates = new ReloadingCertificates(configuration.TlsCertFile!, configuration.TlsKeyFile!, configuration.TlsCaCertFile,
                        TimeProvider.System, listen.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Dynamite.Tls"));
                    certificates.Load();
                    listen.UseHttps(ClientTlsOptions.BuildServerOnly(configuration, certificates));
                });
            }
            else
            {
                kestrel.Listen(httpEndpoint);
            }
        });
    }
}
