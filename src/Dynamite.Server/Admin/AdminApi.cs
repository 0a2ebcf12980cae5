using Dynamite.Protocols.Resp;
using Dynamite.Server.Configuration;
using Dynamite.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

using Dynamite.Server.Hosting;

namespace Dynamite.Server.Admin;

/// <summary>
/// The node's admin HTTP API (JSON), and its metrics in the Prometheus text format (<see cref="PrometheusEndpoint"/>).
/// The CLI's admin verbs talk to it. What changes the cluster (join, leave, remove, repair) needs an @admin user
/// (<see cref="AdminAuthorization"/>); the read-only views do not.
/// </summary>
public static class AdminApi
{
    public static void Map(WebApplication app)
    {
        PrometheusEndpoint.Map(app, app.Services.GetRequiredService<OpenTelemetry.Metrics.MeterProvider>());
        app.MapGet("/health", () => Results.Json(new { status = "ok" }));
        app.MapGet("/v1/node", (NodeConfiguration configuration, RespServer resp, IStorageEngine engine) => Results.Json(new
        {
            nodeId = configuration.NodeId,
            resp = configuration.Listen,
            http = configuration.Http,
            engine = engine.Name,
            fsync = configuration.Fsync.ToString().ToLowerInvariant(),
            dataDir = Path.GetFullPath(configuration.ResolvedDataDir),
            partitions = engine.Partitioner.PartitionCount,
            keys = engine.KeyCount,
            keysWithExpiry = engine.KeysWithExpiryCount,
            connectedClients = resp.Clients.Count,
            totalCommands = resp.Clients.TotalCommands,
            uptimeSeconds = (resp.NowUnixMs - resp.StartedAtUnixMs) / 1000,
        }));
        app.MapGet("/v1/cluster", (IServiceProvider services) => services.GetService(typeof(ClusterStatusView)) is ClusterStatusView cluster
            ? Results.Json(cluster.Status())
            : Results.Json(new { error = "this node is standalone (started without --seeds)" }, statusCode: 404));
        app.MapPost("/v1/repair", async (IServiceProvider services, int? partition, CancellationToken cancellationToken) =>
        {
            if (services.GetService(typeof(ClusterServices)) is not ClusterServices cluster)
            {
                return Results.Json(new { error = "this node is standalone (started without --seeds)" }, statusCode: 404);
            }

            if (partition is { } p && (p < 0 || p >= cluster.Trees.PartitionCount))
            {
                return Results.Json(new { error = $"partition must be 0 to {cluster.Trees.PartitionCount - 1}" }, statusCode: 400);
            }

            var results = await cluster.AntiEntropy.RepairNowAsync(partition is { } only ? new Dynamite.Core.Partitioning.PartitionId(only) : null, null, cancellationToken);
            return Results.Json(new
            {
                exchanges = results.Count,
                failed = results.Count(r => r.Error is not null),
                differingSegments = results.Sum(r => r.DifferingSegments),
                keysRepaired = results.Sum(r => r.KeysRepaired),
                bytesExchanged = results.Sum(r => r.BytesExchanged),
                errors = results.Where(r => r.Error is not null).Select(r => $"partition {r.Partition} with {r.Peer}: {r.Error}").Take(20),
            });
        }).AddEndpointFilter<AdminAuthorization>();
        app.MapPost("/v1/join", async (IServiceProvider services, string? seed, CancellationToken cancellationToken) =>
        {
            if (services.GetService(typeof(ClusterServices)) is not ClusterServices cluster)
            {
                return Standalone();
            }

            if (string.IsNullOrWhiteSpace(seed) || !System.Net.IPEndPoint.TryParse(seed, out System.Net.IPEndPoint? endpoint) || endpoint.Port == 0)
            {
                return Results.Json(new { error = "seed must be the peer address HOST:PORT of a node of the cluster to join" }, statusCode: 400);
            }

            try
            {
                var state = await cluster.JoinAsync(endpoint, cancellationToken);
                return Results.Json(new { joined = true, members = state.Members.Count, ringVersion = state.RingVersion });
            }
            catch (Exception exception) when (exception is InvalidOperationException or Dynamite.Cluster.Transport.PeerUnavailableException
                                              or Dynamite.Cluster.Transport.PeerRefusedException or Dynamite.Cluster.Transport.PeerRemoteException or TimeoutException or FormatException)
            {
                return Results.Json(new { error = $"join through {seed} failed: {exception.Message}" }, statusCode: 409);
            }
        }).AddEndpointFilter<AdminAuthorization>();
        app.MapPost("/v1/leave", (IServiceProvider services) =>
        {
            if (services.GetService(typeof(ClusterServices)) is not ClusterServices cluster)
            {
                return Standalone();
            }

            try
            {
                var state = cluster.Membership.Leave();
                return Results.Json(new { leaving = true, ringVersion = state.RingVersion });
            }
            catch (InvalidOperationException exception)
            {
                return Results.Json(new { error = exception.Message }, statusCode: 409);
            }
        }).AddEndpointFilter<AdminAuthorization>();
        app.MapPost("/v1/remove", (IServiceProvider services, string? node) =>
        {
            if (services.GetService(typeof(ClusterServices)) is not ClusterServices cluster)
            {
                return Standalone();
            }

            if (string.IsNullOrWhiteSpace(node) || !Dynamite.Core.Membership.NodeId.TryCreate(node, out Dynamite.Core.Membership.NodeId id))
            {
                return Results.Json(new { error = "node must be the id of the member to remove" }, statusCode: 400);
            }

            try
            {
                var state = cluster.Membership.Remove(id);
                return Results.Json(new { removed = node, ringVersion = state.RingVersion });
            }
            catch (Exception exception) when (exception is InvalidOperationException or KeyNotFoundException)
            {
                return Results.Json(new { error = exception.Message }, statusCode: 409);
            }
        }).AddEndpointFilter<AdminAuthorization>();
        app.MapGet("/v1/ring", (IServiceProvider services) => services.GetService(typeof(ClusterStatusView)) is ClusterStatusView cluster
            ? Results.Json(cluster.Ring())
            : Results.Json(new { error = "this node is standalone (started without --seeds)" }, statusCode: 404));
    }

    private static IResult Standalone() => Results.Json(new { error = "this node is standalone (started without --seeds)" }, statusCode: 404);
}
