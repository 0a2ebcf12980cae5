using Dynamite.Cluster.Transport;
using Xunit;

namespace Dynamite.Cluster.Tests.Transport;

public sealed class ReconnectBackoffTests
{
    [Fact]
    public void NextDelay_RepeatedFailures_DoublesFrom50MsUpTo5Seconds()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(5));

        double[] delays = Enumerable.Range(0, 10).Select(_ => backoff.NextDelay().TotalMilliseconds).ToArray();

        Assert.Equal([50, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000], delays);
    }

    [Fact]
    public void Reset_AfterFailures_StartsAgainFromTheInitialDelay()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(5));
        backoff.NextDelay();
        backoff.NextDelay();

        backoff.Reset();

        Assert.Equal(TimeSpan.FromMilliseconds(50), backoff.NextDelay());
    }
}
