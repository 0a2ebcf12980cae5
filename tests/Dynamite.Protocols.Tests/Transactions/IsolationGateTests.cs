using Dynamite.Protocols.Resp.Isolation;
using Xunit;

namespace Dynamite.Protocols.Tests.Transactions;

/// <summary>The gate on its own: shared holders together, an exclusive one alone, first come first served, and waits that end.</summary>
public sealed class IsolationGateTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(10);

    private static ValueTask<bool> Enter(IsolationGate gate, bool exclusive, Func<bool>? giveUp = null, TimeSpan? maxWait = null) =>
        gate.EnterAsync(exclusive, giveUp, maxWait ?? Long, TimeProvider.System, CancellationToken.None);

    [Fact]
    public async Task SharedHoldersShare_AnExclusiveOneWaitsForThem_AndLaterSharedOnesQueueBehindIt()
    {
        var gate = new IsolationGate();
        Assert.True(gate.TryEnterShared());
        Assert.True(gate.TryEnterShared());

        ValueTask<bool> exclusive = Enter(gate, exclusive: true);
        Assert.False(exclusive.IsCompleted);

        // A transaction waits: a command arriving now queues behind it instead of starving it.
        Assert.False(gate.TryEnterShared());
        ValueTask<bool> lateShared = Enter(gate, exclusive: false);
        Assert.False(lateShared.IsCompleted);

        gate.ExitShared();
        Assert.False(exclusive.IsCompleted);
        gate.ExitShared();
        Assert.True(await exclusive);
        Assert.True(gate.IsHeldExclusively);
        Assert.False(lateShared.IsCompleted);

        gate.ExitExclusive();
        Assert.True(await lateShared);
        Assert.Equal(1, gate.SharedHolders);
        gate.ExitShared();
        Assert.True(gate.TryEnterShared());
        gate.ExitShared();
    }

    [Fact]
    public async Task AWaiterThatGivesUpOrTimesOutHoldsNothing_AndNoLongerBlocksThoseBehindIt()
    {
        var gate = new IsolationGate();
        Assert.True(gate.TryEnterShared());

        bool stop = false;
        ValueTask<bool> givingUp = Enter(gate, exclusive: true, giveUp: () => stop);
        ValueTask<bool> behind = Enter(gate, exclusive: false);
        Assert.False(behind.IsCompleted);

        stop = true;
        Assert.False(await givingUp);
        // The exclusive waiter at the head left: the shared one behind it enters beside the holder.
        Assert.True(await behind);
        Assert.Equal(2, gate.SharedHolders);

        Assert.False(await Enter(gate, exclusive: true, maxWait: TimeSpan.FromMilliseconds(120)));
        gate.ExitShared();
        gate.ExitShared();
        Assert.True(await Enter(gate, exclusive: true));
        gate.ExitExclusive();
    }

    [Fact]
    public async Task UnderManyThreads_NoSharedHolderEverOverlapsAnExclusiveOne()
    {
        var gate = new IsolationGate();
        int shared = 0;
        int exclusive = 0;
        int overlaps = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));

        async Task Reader()
        {
            for (int i = 0; i < 20_000 && !stop.IsCancellationRequested; i++)
            {
                if (!gate.TryEnterShared() && !await Enter(gate, exclusive: false))
                {
                    continue;
                }

                Interlocked.Increment(ref shared);
                if (Volatile.Read(ref exclusive) != 0)
                {
                    Interlocked.Increment(ref overlaps);
                }

                Interlocked.Decrement(ref shared);
                gate.ExitShared();
            }
        }

        async Task Writer()
        {
            for (int i = 0; i < 2_000 && !stop.IsCancellationRequested; i++)
            {
                Assert.True(await Enter(gate, exclusive: true));
                if (Interlocked.Increment(ref exclusive) != 1 || Volatile.Read(ref shared) != 0)
                {
                    Interlocked.Increment(ref overlaps);
                }

                await Task.Yield();
                Interlocked.Decrement(ref exclusive);
                gate.ExitExclusive();
            }
        }

        await Task.WhenAll(Task.Run(Reader), Task.Run(Reader), Task.Run(Reader), Task.Run(Writer), Task.Run(Writer));
        Assert.Equal(0, overlaps);
        Assert.Equal(0, gate.SharedHolders);
        Assert.False(gate.IsHeldExclusively);
    }
}
