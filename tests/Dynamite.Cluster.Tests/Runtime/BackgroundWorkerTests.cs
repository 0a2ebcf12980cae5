using System.Threading.Channels;
using Dynamite.Cluster.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Dynamite.Cluster.Tests.Runtime;

/// <summary>The one background-loop type: its waits are timers of the injected clock, which these tests advance by hand.</summary>
public sealed class BackgroundWorkerTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Start_NoWake_FirstStepRunsOnceTheIntervalHasPassedOnTheFakeClock()
    {
        var clock = new FakeTimeProvider();
        var steps = Channel.CreateUnbounded<long>();
        await using var worker = new BackgroundWorker("test", Interval, _ => Record(steps, clock), clock, NullLogger.Instance);
        worker.Start();

        await WaitUntilArmedAsync(worker);
        clock.Advance(Interval - TimeSpan.FromMilliseconds(1));
        Assert.False(steps.Reader.TryRead(out _));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds(), await steps.Reader.ReadAsync().AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task Wake_WhileWaiting_RunsTheStepWithoutTimePassing()
    {
        var clock = new FakeTimeProvider();
        var steps = Channel.CreateUnbounded<long>();
        await using var worker = new BackgroundWorker("test", Interval, _ => Record(steps, clock), clock, NullLogger.Instance);
        long started = clock.GetUtcNow().ToUnixTimeMilliseconds();
        worker.Start();

        worker.Wake();
        Assert.Equal(started, await steps.Reader.ReadAsync().AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task Wake_DuringAStep_RunsAnotherStepRightAfterIt()
    {
        var clock = new FakeTimeProvider();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = Channel.CreateUnbounded<int>();
        int calls = 0;
        await using var worker = new BackgroundWorker(
            "test",
            Interval,
            async stopping =>
            {
                int call = Interlocked.Increment(ref calls);
                await entered.Writer.WriteAsync(call, stopping);
                if (call == 1)
                {
                    await release.Task;
                }
            },
            clock,
            NullLogger.Instance,
            stepAtStart: true);
        worker.Start();

        Assert.Equal(1, await entered.Reader.ReadAsync().AsTask().WaitAsync(Bound));
        worker.Wake();
        release.SetResult();
        Assert.Equal(2, await entered.Reader.ReadAsync().AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task Step_Throws_TheNextIntervalRunsTheStepAgain()
    {
        var clock = new FakeTimeProvider();
        var steps = Channel.CreateUnbounded<int>();
        int calls = 0;
        await using var worker = new BackgroundWorker(
            "test",
            Interval,
            async stopping =>
            {
                int call = Interlocked.Increment(ref calls);
                await steps.Writer.WriteAsync(call, stopping);
                if (call == 1)
                {
                    throw new IOException("a failed round");
                }
            },
            clock,
            NullLogger.Instance,
            stepAtStart: true);
        worker.Start();

        Assert.Equal(1, await steps.Reader.ReadAsync().AsTask().WaitAsync(Bound));
        await WaitUntilArmedAsync(worker);
        clock.Advance(Interval);
        Assert.Equal(2, await steps.Reader.ReadAsync().AsTask().WaitAsync(Bound));
        Assert.True(worker.Rounds >= 1);
    }

    [Fact]
    public async Task Step_ReturnsItsOwnWait_TheNextStepRunsAfterThatWaitNotTheInterval()
    {
        var clock = new FakeTimeProvider();
        var steps = Channel.CreateUnbounded<long>();
        TimeSpan[] waits = [TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(300)];
        int calls = 0;
        await using var worker = new BackgroundWorker(
            "test",
            Interval,
            async _ =>
            {
                await Record(steps, clock);
                return waits[Math.Min(Interlocked.Increment(ref calls), waits.Length) - 1];
            },
            clock,
            NullLogger.Instance,
            stepAtStart: true);
        long started = clock.GetUtcNow().ToUnixTimeMilliseconds();
        worker.Start();
        Assert.Equal(started, await steps.Reader.ReadAsync().AsTask().WaitAsync(Bound));

        // The first step asked for 5 s: the 1 s interval passing runs nothing.
        await WaitUntilArmedAsync(worker);
        clock.Advance(Interval);
        clock.Advance(TimeSpan.FromSeconds(4) - TimeSpan.FromMilliseconds(1));
        Assert.False(steps.Reader.TryRead(out _));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(started + 5_000, await steps.Reader.ReadAsync().AsTask().WaitAsync(Bound));

        // The second asked for 300 ms: shorter than the interval.
        await WaitUntilArmedAsync(worker);
        clock.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(started + 5_300, await steps.Reader.ReadAsync().AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task StopAsync_StepIgnoresCancellation_ReturnsAfterTheStopTimeout()
    {
        var clock = new FakeTimeProvider();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource();
        var worker = new BackgroundWorker(
            "stubborn",
            Interval,
            _ =>
            {
                entered.TrySetResult();
                return never.Task;
            },
            clock,
            NullLogger.Instance,
            stepAtStart: true,
            stopTimeout: TimeSpan.FromSeconds(5));
        worker.Start();
        await entered.Task.WaitAsync(Bound);

        DateTimeOffset asked = clock.GetUtcNow();
        Task stopping = worker.StopAsync();
        await WaitUntilAsync(() =>
        {
            clock.Advance(TimeSpan.FromMilliseconds(100));
            return stopping.IsCompleted;
        });
        await stopping;

        // It gave up on the step at the stop timeout (fake time), not before; the step is still stuck, as it chose.
        Assert.True(clock.GetUtcNow() - asked >= TimeSpan.FromSeconds(5));
        Assert.True(worker.IsRunning);
    }

    [Fact]
    public async Task DisposeAsync_Twice_IsIdempotentAndStartAfterwardsThrows()
    {
        var clock = new FakeTimeProvider();
        var worker = new BackgroundWorker("test", Interval, _ => Task.CompletedTask, clock, NullLogger.Instance);
        worker.Start();
        await worker.DisposeAsync().AsTask().WaitAsync(Bound);
        await worker.DisposeAsync().AsTask().WaitAsync(Bound);
        Assert.False(worker.IsRunning);
        Assert.Throws<ObjectDisposedException>(worker.Start);
    }

    private static async Task Record(Channel<long> steps, TimeProvider clock) =>
        await steps.Writer.WriteAsync(clock.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>The loop arms its interval timer on a thread-pool continuation: advancing the clock before that would be lost.</summary>
    private static Task WaitUntilArmedAsync(BackgroundWorker worker) => WaitUntilAsync(() => worker.IsWaiting);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var limit = new CancellationTokenSource(Bound);
        while (!condition())
        {
            await Task.Yield();
            limit.Token.ThrowIfCancellationRequested();
        }
    }
}
