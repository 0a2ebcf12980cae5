using System.Text;
using Dynamite.Protocols.Resp;
using Microsoft.AspNetCore.Http;

namespace Dynamite.Server.Admin;

/// <summary>
/// What the admin API asks of a request that changes the cluster (join, leave, remove, repair): HTTP Basic credentials
/// of an ACL user that may run every @admin command. A request without credentials is the default user with an empty
/// password, which passes only while the default user has no password (a node nobody secured, as redis-server's default
/// user then lets anyone in). Failures are slowed down and logged as failed AUTHs are.
/// </summary>
internal sealed class AdminAuthorization : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        HttpContext http = context.HttpContext;
        RespServer server = http.RequestServices.GetService(typeof(RespServer)) as RespServer
            ?? throw new InvalidOperationException("The admin API runs beside the RESP server.");
        if (!TryReadCredentials(http.Request, out string user, out string password))
        {
            return Results.Json(new { error = "the Authorization header must be HTTP Basic credentials (user:password)" }, statusCode: 400);
        }

        string address = http.Connection.RemoteIpAddress?.ToString() ?? "?";
        if (server.AuthorizeAdmin(user, password, address, out TimeSpan delay))
        {
            return await next(context);
        }

        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, http.RequestAborted);
        }

        http.Response.Headers.WWWAuthenticate = "Basic realm=\"dynamite\"";
        return Results.Json(
            new { error = "this changes the cluster: give the credentials of a user allowed every @admin command (DYNAMITE_USER and DYNAMITE_PASSWORD for the CLI)" },
            statusCode: 401);
    }

    private static bool TryReadCredentials(HttpRequest request, out string user, out string password)
    {
        user = "default";
        password = "";
        string? header = request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return true;
        }

        const string Scheme = "Basic ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[Scheme.Length..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }

        int colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        user = decoded[..colon];
        password = decoded[(colon + 1)..];
        return true;
    }
}
