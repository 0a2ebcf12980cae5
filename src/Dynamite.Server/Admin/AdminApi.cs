using Dynamite.Protocols.Resp;
using Dynamite.Server.Configuration;
using Dynamite.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

using Dynamite.Server.Hosting;

namespace Dynamite.Server.Admin;

/// <summary>
/// The node's admin HTTP API (JSON). The CLI's admin verbs and the web console talk to it; later work adds
/// cluster status, ring and membership operations.
/// </summary>
public static class AdminApi
{
    public static void Map(WebApplication app)
    {
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
        app.MapGet("/v1/cluster", (IServiceProvider services) => services.GetService(typeof(ClusterServices)) is ClusterServices cluster
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
        });
        app.MapGet("/v1/ring", (IServiceProvider services) => services.GetService(typeof(ClusterServices)) is ClusterServices cluster
            ? Results.Json(cluster.Ring())
            : Results.Json(new { error = "this node is standalone (started without --seeds)" }, statusCode: 404));
    }
}
