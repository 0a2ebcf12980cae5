using Dynamite.IntegrationTests.Infrastructure;
using Dynamite.IntegrationTests.RealClients;
using Xunit;

namespace Dynamite.IntegrationTests.Scripting;

/// <summary>
/// A script's memory and time are bounded, and a script that hits a bound fails alone: the node, its Lua state and
/// every other client keep working.
/// </summary>
public sealed class ScriptBoundsTests(SingleNodeFixture fixture) : IClassFixture<SingleNodeFixture>
{
    [Fact]
    public void AScriptThatAllocatesWithoutEnd_FailsAtTheMemoryLimit_AndTheNextScriptRuns()
    {
        using RawRespClient client = fixture.Node.Connect();
        RespValue hog = client.Call("EVAL", "local t = {} for i = 1, 100000000 do t[i] = string.rep('x', 1000) .. i end return #t", "0");
        Assert.StartsWith("-ERR script exceeded the scripting memory limit", hog.ToString(), StringComparison.Ordinal);
        Assert.Equal(":3", client.Call("EVAL", "return #KEYS + #ARGV", "1", "k", "a", "b").ToString());
        Assert.Equal("+PONG", client.Call("PING").ToString());
    }

    [Fact]
    public void ALoopingScript_AnswersOthersBusy_UntilScriptKill_ThenEverythingIsServedAgain()
    {
        using RawRespClient admin = fixture.Node.Connect();
        using RawRespClient looping = fixture.Node.Connect();
        Assert.Equal("+OK", admin.Call("CONFIG", "SET", "lua-time-limit", "100").ToString());
        try
        {
            looping.Send("EVAL", "local i = 0 while true do i = i + 1 end", "0");
            RespValue busy = admin.Call("GET", "somekey");
            for (int attempt = 0; attempt < 100 && !busy.ToString().StartsWith("-BUSY", StringComparison.Ordinal); attempt++)
            {
                Thread.Sleep(50);
                busy = admin.Call("GET", "somekey");
            }

            Assert.StartsWith("-BUSY", busy.ToString(), StringComparison.Ordinal);
            Assert.Equal("+OK", admin.Call("SCRIPT", "KILL").ToString());
            Assert.StartsWith("-ERR Script killed by user with SCRIPT KILL", looping.Read().ToString(), StringComparison.Ordinal);
            Assert.Equal("$(nil)", admin.Call("GET", "somekey").ToString());
            Assert.Equal("$\"done\"", looping.Call("EVAL", "return 'done'", "0").ToString());
            Assert.Equal("-NOTBUSY No scripts in execution right now.", admin.Call("SCRIPT", "KILL").ToString());
        }
        finally
        {
            admin.Call("CONFIG", "SET", "lua-time-limit", "5000");
        }
    }

    [Fact]
    public void AScriptThatWrote_CannotBeKilled_ButFinishes()
    {
        using RawRespClient admin = fixture.Node.Connect();
        using RawRespClient writer = fixture.Node.Connect();
        Assert.Equal("+OK", admin.Call("CONFIG", "SET", "lua-time-limit", "50").ToString());
        try
        {
            // Writes, then spins for a while (bounded) before returning.
            writer.Send("EVAL", "redis.call('SET', KEYS[1], 'v') local t = os.clock() while os.clock() - t < 1.5 do end return 'finished'", "1", "bounds:written");
            RespValue kill = admin.Call("SCRIPT", "KILL");
            for (int attempt = 0; attempt < 100 && kill.ToString().StartsWith("-NOTBUSY", StringComparison.Ordinal); attempt++)
            {
                Thread.Sleep(20);
                kill = admin.Call("SCRIPT", "KILL");
            }

            Assert.StartsWith("-UNKILLABLE", kill.ToString(), StringComparison.Ordinal);
            Assert.Equal("$\"finished\"", writer.Read().ToString());
            Assert.Equal("$\"v\"", admin.Call("GET", "bounds:written").ToString());
        }
        finally
        {
            admin.Call("CONFIG", "SET", "lua-time-limit", "5000");
        }
    }
}
