using Dynamite.Protocols.Tests.Infrastructure;
using Xunit;

namespace Dynamite.Protocols.Tests.Security;

/// <summary>ACL users on one node, as redis-server 6+ has them: rules, AUTH as a user, and what a user is refused.</summary>
public sealed class AclTests : StandaloneNodeTests
{
    [Fact]
    public async Task NewConnection_IsTheDefaultUser_WhoMayRunEverything()
    {
        await Expect("$7\r\ndefault\r\n", "ACL", "WHOAMI");
        await Expect("*1\r\n$34\r\nuser default on nopass ~* &* +@all\r\n", "ACL", "LIST");
        await Expect("+OK\r\n", "FLUSHALL");
    }

    [Fact]
    public async Task User_RunsOnlyItsCommands_AndARefusalIsLogged()
    {
        await Expect("+OK\r\n", "ACL", "SETUSER", "reader", "on", ">secret", "+@read", "allkeys");
        await Expect("+OK\r\n", "SET", "k", "v");
        await Expect("+OK\r\n", "AUTH", "reader", "secret");

        await Expect("$1\r\nv\r\n", "GET", "k");
        await Expect("-NOPERM this user has no permissions to run the 'set' command\r\n", "SET", "k", "w");

        await Expect("+OK\r\n", "AUTH", "default", "anything");
        string log = await Call("ACL", "LOG", "1");
        string[] fields = Bulks(log);
        Assert.Equal("command", fields[Array.IndexOf(fields, "reason") + 1]);
        Assert.Equal("set", fields[Array.IndexOf(fields, "object") + 1]);
        Assert.Equal("reader", fields[Array.IndexOf(fields, "username") + 1]);
        await Expect("$1\r\nv\r\n", "GET", "k");
    }

    [Fact]
    public async Task KeyPatterns_GiveReadAndWriteAccessSeparately()
    {
        await Expect("+OK\r\n", "ACL", "SETUSER", "app", "on", "nopass", "+@all", "%R~shared:*", "~app:*");
        await Expect("+OK\r\n", "SET", "shared:1", "s");
        await Expect("+OK\r\n", "AUTH", "app", "x");

        await Expect("+OK\r\n", "SET", "app:1", "a");
        await Expect("$1\r\ns\r\n", "GET", "shared:1");
        await Expect("-NOPERM this user has no permissions to access one of the keys used as arguments\r\n", "SET", "shared:1", "t");
        await Expect("-NOPERM this user has no permissions to access one of the keys used as arguments\r\n", "GET", "other");
    }

    [Fact]
    public async Task ChannelPatterns_LimitPublishing()
    {
        await Expect("+OK\r\n", "ACL", "SETUSER", "news", "on", "nopass", "+@all", "allkeys", "&news.*");
        await Expect("+OK\r\n", "AUTH", "news", "x");

        await Expect(":0\r\n", "PUBLISH", "news.sport", "goal");
        await Expect("-NOPERM this user has no permissions to access one of the channels used as arguments\r\n", "PUBLISH", "weather", "rain");
    }

    [Fact]
    public async Task WrongPasswordOrDisabledUser_IsRefused_AndTheClientStaysWhoItWas()
    {
        await Expect("+OK\r\n", "ACL", "SETUSER", "alice", ">pw", "+@all", "allkeys");

        await Expect("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "alice", "pw");
        await Expect("+OK\r\n", "ACL", "SETUSER", "alice", "on");
        await Expect("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "alice", "nope");
        await Expect("$7\r\ndefault\r\n", "ACL", "WHOAMI");
        await Expect("+OK\r\n", "AUTH", "alice", "pw");
        await Expect("$5\r\nalice\r\n", "ACL", "WHOAMI");
    }

    [Fact]
    public async Task SetUser_AppliesAllRulesOrNone()
    {
        await Expect("+OK\r\n", "ACL", "SETUSER", "bob", "on", "+get");

        await Expect("-ERR Error in ACL SETUSER modifier '+nosuchcommand': Unknown command or category name in ACL\r\n",
            "ACL", "SETUSER", "bob", "+set", "+nosuchcommand");

        string user = await Call("ACL", "GETUSER", "bob");
        string[] fields = Bulks(user);
        Assert.Equal("-@all +get", fields[Array.IndexOf(fields, "commands") + 1]);
    }

    [Fact]
    public async Task CommandRules_AreDescribedCompactedAsRedisDoes()
    {
        await Expect("+OK\r\n", "ACL", "SETUSER", "carol", "+@all", "-client", "+client|id", "-flushall");
        string[] fields = Bulks(await Call("ACL", "GETUSER", "carol"));
        Assert.Equal("+@all -client +client|id -flushall", fields[Array.IndexOf(fields, "commands") + 1]);

        await Expect("+OK\r\n", "ACL", "SETUSER", "carol", "+client");
        fields = Bulks(await Call("ACL", "GETUSER", "carol"));
        Assert.Equal("+@all -flushall +client", fields[Array.IndexOf(fields, "commands") + 1]);
    }

    [Fact]
    public async Task Subcommands_CanBeAllowedOneByOne()
    {
        await Expect("+OK\r\n", "ACL", "SETUSER", "ops", "on", "nopass", "-@all", "+config|get");
        await Expect("+OK\r\n", "AUTH", "ops", "x");

        await Expect("*2\r\n$14\r\nacllog-max-len\r\n$3\r\n128\r\n", "CONFIG", "GET", "acllog-max-len");
        await Expect("-NOPERM this user has no permissions to run the 'config|set' command\r\n", "CONFIG", "SET", "maxclients", "10");
    }

    [Fact]
    public async Task RefusedCommandInMulti_AbortsTheTransaction_WithNothingApplied()
    {
        await Expect("+OK\r\n", "ACL", "SETUSER", "writer", "on", "nopass", "+@all", "-del", "allkeys");
        await Expect("+OK\r\n", "AUTH", "writer", "x");

        await Expect("+OK\r\n", "MULTI");
        await Expect("+QUEUED\r\n", "SET", "t", "1");
        await Expect("-NOPERM this user has no permissions to run the 'del' command\r\n", "DEL", "t");
        await Expect("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC");
        await Expect("$-1\r\n", "GET", "t");
    }

    [Fact]
    public async Task HelloAuth_SwitchesUser()
    {
        await Expect("+OK\r\n", "ACL", "SETUSER", "dave", "on", ">d", "+@all", "allkeys", "allchannels");

        string reply = await Call("HELLO", "2", "AUTH", "dave", "d");

        Assert.Contains("proto", reply, StringComparison.Ordinal);
        await Expect("$4\r\ndave\r\n", "ACL", "WHOAMI");
        await Expect("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "HELLO", "2", "AUTH", "dave", "wrong");
    }

    [Fact]
    public async Task DefaultUser_CannotBeDeleted_OthersCan()
    {
        await Expect("+OK\r\n", "ACL", "SETUSER", "temp");

        await Expect("-ERR The 'default' user cannot be removed\r\n", "ACL", "DELUSER", "default");
        await Expect(":1\r\n", "ACL", "DELUSER", "temp", "absent");
        await Expect("*1\r\n$7\r\ndefault\r\n", "ACL", "USERS");
    }

    [Fact]
    public async Task DryRun_TellsWhatTheUserWouldBeTold()
    {
        await Expect("+OK\r\n", "ACL", "SETUSER", "eve", "on", "+get", "~e:*");

        await Expect("+OK\r\n", "ACL", "DRYRUN", "eve", "GET", "e:1");
        await Expect("$50\r\nThis user has no permissions to access the 'x' key\r\n", "ACL", "DRYRUN", "eve", "GET", "x");
        await Expect("$53\r\nThis user has no permissions to run the 'set' command\r\n", "ACL", "DRYRUN", "eve", "SET", "e:1", "v");
    }
}
