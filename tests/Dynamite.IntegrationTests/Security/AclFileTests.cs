using Dynamite.IntegrationTests.Infrastructure;
using Xunit;

namespace Dynamite.IntegrationTests.Security;

/// <summary>
/// The aclfile, as redis-server has it: ACL SAVE writes the users, a restarted node reads them at start, ACL LOAD
/// replaces the users with the file's (all or nothing: a bad line changes nothing and names its line).
/// </summary>
public sealed class AclFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dynamite-aclfile-").FullName;

    [Fact]
    public async Task SaveThenRestart_KeepsTheUsers_AndLoadIsAllOrNothing()
    {
        string file = Path.Combine(_directory, "users.acl");
        File.WriteAllText(file, "");
        string data = Path.Combine(_directory, "data");
        await using (DynamiteNode node = await DynamiteNode.StartAsync("memory", ["--aclfile", file], dataDirectory: data))
        {
            using RawRespClient client = node.Connect();
            Assert.Equal("+OK", client.Call("ACL", "SETUSER", "keeper", "on", ">kept", "+get", "~k:*").ToString());
            Assert.Equal("+OK", client.Call("ACL", "SAVE").ToString());
        }

        Assert.Contains("user keeper on #", File.ReadAllText(file), StringComparison.Ordinal);
        await using DynamiteNode restarted = await DynamiteNode.StartAsync("memory", ["--aclfile", file], dataDirectory: data);
        using RawRespClient again = restarted.Connect();
        Assert.Equal("+OK", again.Call("AUTH", "keeper", "kept").ToString());
        Assert.StartsWith("-NOPERM", again.Call("SET", "k:1", "v").ToString(), StringComparison.Ordinal);

        using RawRespClient admin = restarted.Connect();
        File.WriteAllText(file, "user fresh on nopass +@all ~*\nuser broken on +nosuchcommand\n");
        string refused = admin.Call("ACL", "LOAD").ToString();
        Assert.StartsWith("-ERR", refused, StringComparison.Ordinal);
        Assert.Contains("line 2", refused, StringComparison.Ordinal);
        Assert.Equal("+OK", admin.Call("AUTH", "keeper", "kept").ToString());

        File.WriteAllText(file, "user fresh on nopass +@all ~*\n");
        Assert.Equal("+OK", admin.Call("AUTH", "default", "x").ToString());
        Assert.Equal("+OK", admin.Call("ACL", "LOAD").ToString());
        Assert.Equal("*[$default, $fresh]", admin.Call("ACL", "USERS").ToString().Replace("\"", "", StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
