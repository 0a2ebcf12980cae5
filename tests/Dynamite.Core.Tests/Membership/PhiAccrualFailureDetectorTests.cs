using Dynamite.Core.Membership;
using Xunit;

namespace Dynamite.Core.Tests.Membership;

public sealed class PhiAccrualFailureDetectorTests
{
    [Fact]
    public void Phi_BeforeAnyHeartbeat_IsZero()
    {
        var detector = new PhiAccrualFailureDetector();

        Assert.Equal(0, detector.Phi(0));
        Assert.Equal(0, detector.Phi(1_000_000));
        Assert.Null(detector.LastHeartbeatUnixMs);
    }

    [Fact]
    public void Phi_RegularHeartbeats_StaysLowUntilSilence()
    {
        var detector = new PhiAccrualFailureDetector(acceptablePauseMs: 0);
        long now = 1_000;
        for (int i = 0; i < 50; i++)
        {
            detector.Heartbeat(now);
            Assert.True(detector.Phi(now + 400) < 1, $"phi {detector.Phi(now + 400)} at beat {i}");
            now += 500;
        }

        long last = now - 500;
        double atMean = detector.Phi(last + 500);
        double later = detector.Phi(last + 700);
        double muchLater = detector.Phi(last + 2_000);

        Assert.InRange(atMean, 0.1, 0.5);
        Assert.True(later > atMean);
        Assert.True(muchLater > 8);
    }

    [Fact]
    public void Phi_IsMonotonicInSilence()
    {
        var detector = new PhiAccrualFailureDetector();
        for (long t = 0; t <= 10_000; t += 500)
        {
            detector.Heartbeat(t);
        }

        double previous = -1;
        for (long t = 10_000; t < 20_000; t += 50)
        {
            double phi = detector.Phi(t);
            Assert.True(phi >= previous, $"phi fell from {previous} to {phi} at {t}");
            previous = phi;
        }
    }

    [Fact]
    public void Phi_VeryLongSilence_IsFiniteAndHuge()
    {
        var detector = new PhiAccrualFailureDetector();
        detector.Heartbeat(0);
        detector.Heartbeat(500);

        double phi = detector.Phi(500 + 86_400_000);

        Assert.True(double.IsFinite(phi));
        Assert.True(phi > 1_000);
    }

    [Fact]
    public void Phi_RightAfterHeartbeat_IsPositiveZero()
    {
        var detector = new PhiAccrualFailureDetector();
        detector.Heartbeat(0);
        detector.Heartbeat(500);

        double phi = detector.Phi(500);

        Assert.Equal(0.0, phi);
        Assert.False(double.IsNegative(phi));
        Assert.Equal("0.00", phi.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Phi_AcceptablePause_DelaysSuspicion()
    {
        var strict = new PhiAccrualFailureDetector(acceptablePauseMs: 0);
        var lenient = new PhiAccrualFailureDetector(acceptablePauseMs: 3_000);
        for (long t = 0; t <= 5_000; t += 500)
        {
            strict.Heartbeat(t);
            lenient.Heartbeat(t);
        }

        Assert.True(strict.Phi(7_000) > 8);
        Assert.True(lenient.Phi(7_000) < 1);
    }

    [Fact]
    public void Heartbeat_FirstOne_BootstrapsFromTheEstimate()
    {
        var detector = new PhiAccrualFailureDetector(firstHeartbeatEstimateMs: 1_000, acceptablePauseMs: 0);

        detector.Heartbeat(10_000);

        Assert.Equal(2, detector.SampleCount);
        Assert.Equal(1_000, detector.MeanMs);
        Assert.True(detector.Phi(10_500) < 1);
        Assert.True(detector.Phi(13_000) > 8);
    }

    [Fact]
    public void Heartbeat_MoreThanMaxSamples_BufferWrapsWithoutGrowing()
    {
        var detector = new PhiAccrualFailureDetector(maxSampleSize: 10, firstHeartbeatEstimateMs: 5_000);
        long now = 0;
        detector.Heartbeat(now);
        // 10 samples of 100 ms push the two bootstrap samples (3750 and 6250 ms) out of the window.
        for (int i = 0; i < 10; i++)
        {
            now += 100;
            detector.Heartbeat(now);
        }

        Assert.Equal(10, detector.SampleCount);
        Assert.Equal(100, detector.MeanMs, 9);
        Assert.Equal(0, detector.StdDeviationMs, 6);

        for (int i = 0; i < 1_000; i++)
        {
            now += i % 2 == 0 ? 200 : 400;
            detector.Heartbeat(now);
        }

        Assert.Equal(10, detector.SampleCount);
        Assert.Equal(10, detector.MaxSampleSize);
        Assert.Equal(300, detector.MeanMs, 6);
        Assert.Equal(100, detector.StdDeviationMs, 6);
    }

    [Fact]
    public void Heartbeat_SteadyState_DoesNotAllocate()
    {
        var detector = new PhiAccrualFailureDetector();
        long now = 0;
        for (int i = 0; i < 200; i++)
        {
            detector.Heartbeat(now += 500);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000; i++)
        {
            detector.Heartbeat(now += 500);
            _ = detector.Phi(now + 100);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Heartbeat_ClockGoesBackwards_AddsNoSample()
    {
        var detector = new PhiAccrualFailureDetector();
        detector.Heartbeat(10_000);
        detector.Heartbeat(9_000);

        Assert.Equal(2, detector.SampleCount);
        Assert.Equal(9_000, detector.LastHeartbeatUnixMs);
    }

    [Fact]
    public void Constructor_BadArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhiAccrualFailureDetector(maxSampleSize: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhiAccrualFailureDetector(minStdDeviationMs: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhiAccrualFailureDetector(acceptablePauseMs: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhiAccrualFailureDetector(firstHeartbeatEstimateMs: 0));
    }
}
