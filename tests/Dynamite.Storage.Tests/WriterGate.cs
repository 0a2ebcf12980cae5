using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Tests;

/// <summary>
/// Holds the SQLite writer thread inside an operation until the test releases it, so a test can queue work
/// behind a busy writer deterministically (no sleeps): everything queued while the gate is shut is taken as
/// the writer's next round.
/// </summary>
internal sealed class WriterGate : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly ManualResetEventSlim _entered = new();
    private readonly ManualResetEventSlim _released = new();

    /// <summary>An operation that blocks the writer until <see cref="Release"/>.</summary>
    public IStorageOperation Operation => new DelegateOperation(_ => Block());

    /// <summary>Call from inside an operation: signals that the writer is held, then waits for <see cref="Release"/>.</summary>
    public void Block()
    {
        _entered.Set();
        if (!_released.Wait(Timeout))
        {
            throw new TimeoutException("The test never released the writer gate.");
        }
    }

    public void WaitUntilEntered() => Assert.True(_entered.Wait(Timeout), "The writer never reached the gate.");

    public void Release() => _released.Set();

    public void Dispose()
    {
        _released.Set();
        _entered.Dispose();
        _released.Dispose();
    }
}
