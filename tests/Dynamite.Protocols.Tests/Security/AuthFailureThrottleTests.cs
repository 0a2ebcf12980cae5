using System.Diagnostics;
using Dynamite.Protocols.Resp.Acl;
using Dynamite.Protocols.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Dynamite.Protocols.Tests.Security;

/// <summary>Failed AUTHs per client address: free at first, then answered later and later, forgotten on success or after a minute.</summary>
public sealed class AuthFailureThrottleTests : StandaloneNodeTests
{
    [Fact]
    public void Failures_PastTheFreeOnes_WaitLongerAndLonger_UpToTheCap()
    {
        var clock = new FakeTimeProvider();
        var throttle = new AuthFailureThrottle(clock);
        for (int i = 0; i < AuthFailureThrottle.FreeFailures; i++)
        {
            Assert.Equal(TimeSpan.Zero, throttle.OnFailure("10.0.0.1:5000"));
        }

        Assert.Equal(TimeSpan.FromMilliseconds(100), throttle.OnFailure("10.0.0.1:5001"));
        Assert.Equal(TimeSpan.FromMilliseconds(200), throttle.OnFailure("10.0.0.1:5002"));
        Assert.Equal(TimeSpan.FromMilliseconds(400), throttle.OnFailure("10.0.0.1:5000"));
        for (int i = 0; i < 20; i++)
        {
            throttle.OnFailure("10.0.0.1:5000");
        }

        Assert.Equal(AuthFailureThrottle.MaxDelay, throttle.OnFailure("10.0.0.1:5000"));

        // Another address is not slowed down by this one's failures.
        Assert.Equal(TimeSpan.Zero, throttle.OnFailure("10.0.0.2:5000"));
    }

    [Fact]
    public void Success_OrAQuietMinute_ForgetsTheFailures()
    {
        var clock = new FakeTimeProvider();
        var throttle = new AuthFailureThrottle(clock);
        for (int i = 0; i <= AuthFailureThrottle.FreeFailures; i++)
        {
            throttle.OnFailure("[::1]:7000");
        }

        throttle.OnSuccess("[::1]:7001");
        Assert.Equal(TimeSpan.Zero, throttle.OnFailure("[::1]:7000"));

        for (int i = 0; i < AuthFailureThrottle.FreeFailures; i++)
        {
            throttle.OnFailure("[::1]:7000");
        }

        clock.Advance(AuthFailureThrottle.Window + TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.Zero, throttle.OnFailure("[::1]:7000"));
    }

    [Fact]
    public async Task RepeatedWrongPasswords_AreAnsweredLate_AndStillRefused()
    {
        await Expect("+OK\r\n", "ACL", "SETUSER", "target", "on", ">right", "+@all");
        for (int i = 0; i < AuthFailureThrottle.FreeFailures; i++)
        {
            await Expect("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "target", "guess" + i);
        }

        var watch = Stopwatch.StartNew();
        await Expect("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "target", "another");

        // A lower bound only: the refusal waited at least the first delay.
        Assert.True(watch.Elapsed >= AuthFailureThrottle.BaseDelay - TimeSpan.FromMilliseconds(5), $"answered after {watch.Elapsed}");
        await Expect("+OK\r\n", "AUTH", "target", "right");
        await Expect("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "target", "again");
    }
}
