using System.Globalization;
using System.Net;
using Dynamite.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Dynamite.IntegrationTests.RealClients;

/// <summary>
/// ASP.NET Core session state, unchanged, as two instances of a web application behind a load balancer use it on a
/// 3-node cluster (N=3, R=W=2): each instance a real Kestrel server whose <see cref="IDistributedCache"/>
/// (Microsoft.Extensions.Caching.StackExchangeRedis) is on another node, the two sharing their data-protection keys as
/// such instances must. A browser's session, carried by its cookie, continues whichever instance serves it. Session
/// middleware swallows a cache that fails (it logs and starts an empty session), so only the counts tell.
/// </summary>
public sealed class ClusterSessionStateTests : IDisposable
{
    private readonly string _keys = Directory.CreateTempSubdirectory("dynamite-session-keys-").FullName;

    public void Dispose() => Directory.Delete(_keys, recursive: true);

    [Fact]
    public async Task ASession_ServedInTurnByInstancesOnDifferentNodes_KeepsItsState()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync();
        await using WebApplication first = await StartAppAsync(cluster[0].Port);
        await using WebApplication second = await StartAppAsync(cluster[2].Port);
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { Timeout = TimeSpan.FromSeconds(30) };
        using var otherBrowser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { Timeout = TimeSpan.FromSeconds(30) };

        var replies = new List<string>();
        foreach (WebApplication app in new[] { first, second, second, first, second })
        {
            replies.Add(await browser.GetStringAsync(new Uri(Address(app), "/visit")));
        }

        Assert.Equal(["1", "2", "3", "4", "5"], replies);
        Assert.Equal("1", await otherBrowser.GetStringAsync(new Uri(Address(second), "/visit")));
        Assert.Equal("6", await browser.GetStringAsync(new Uri(Address(first), "/visit")));

        // The session is a hash on the cluster, read through the third node.
        using RawRespClient raw = cluster.Connect(1);
        RespValue keys = raw.Call("KEYS", "app:*");
        Assert.Equal(2, keys.Items!.Count);
        Assert.All(keys.Items!, key => Assert.Equal("+hash", raw.Call("TYPE", key.Text!).ToString()));
    }

    private async Task<WebApplication> StartAppAsync(int nodePort)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(_keys)).SetApplicationName("dynamite-session-test");
        builder.Services.AddSingleton<IDistributedCache>(_ => DistributedCaches.For(nodePort));
        builder.Services.AddSession(options => options.IdleTimeout = TimeSpan.FromMinutes(20));
        WebApplication app = builder.Build();
        app.UseSession();
        app.MapGet("/visit", async (HttpContext context) =>
        {
            await context.Session.LoadAsync();
            int visits = (context.Session.GetInt32("visits") ?? 0) + 1;
            context.Session.SetInt32("visits", visits);
            await context.Session.CommitAsync();
            return visits.ToString(CultureInfo.InvariantCulture);
        });
        await app.StartAsync();
        return app;
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
}
