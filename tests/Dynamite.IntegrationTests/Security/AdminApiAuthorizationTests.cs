using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Security;

/// <summary>
/// The admin API changes the cluster only for a user allowed every @admin command: once a password is set, a request
/// without credentials, with a wrong password or as a user without @admin is refused with 401 before anything runs.
/// </summary>
public sealed class AdminApiAuthorizationTests
{
    [Fact]
    public async Task ClusterChangingCalls_NeedAnAdminUser_ReadOnlyViewsDoNot()
    {
        await using DynamiteNode node = await DynamiteNode.StartAsync(extraArguments: ["--requirepass", "root-pw"]);
        using (RawRespClient client = node.Connect())
        {
            Assert.Equal("+OK", client.Call("AUTH", "root-pw").ToString());
            Assert.Equal("+OK", client.Call("ACL", "SETUSER", "operator", "on", ">op-pw", "+@admin").ToString());
            Assert.Equal("+OK", client.Call("ACL", "SETUSER", "app", "on", ">app-pw", "+@read", "+@write", "allkeys").ToString());
        }

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{node.HttpPort}"), Timeout = TimeSpan.FromSeconds(10) };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/node")).StatusCode);
        HttpResponseMessage anonymous = await http.PostAsync("/v1/repair", null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("Basic", anonymous.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAs(http, "/v1/leave", "default", "wrong")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAs(http, "/v1/remove?node=x", "app", "app-pw")).StatusCode);

        // Authorized: the call itself runs (and says this node is standalone).
        Assert.Equal(HttpStatusCode.NotFound, (await PostAs(http, "/v1/repair", "operator", "op-pw")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAs(http, "/v1/repair", "default", "root-pw")).StatusCode);

        using RawRespClient admin = node.Connect();
        admin.Call("AUTH", "root-pw");
        RespValue log = admin.Call("ACL", "LOG", "1");
        Assert.Contains("admin-api", log.ToString(), StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> PostAs(HttpClient http, string path, string user, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));
        return await http.SendAsync(request);
    }
}
