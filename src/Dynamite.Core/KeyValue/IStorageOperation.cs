namespace Dynamite.Core.KeyValue;

/// <summary>
/// A read-modify-write over one or more keys. On a single node the engine runs <see cref="Execute"/> with no
/// other write interleaved and applies its staged changes all-or-nothing: if it throws, nothing is written.
/// A cluster coordinator first reads every key the operation declares (<see cref="TouchedKeyCount"/>,
/// <see cref="GetTouchedKey"/>) from its replicas, then runs Execute against those values and writes what it
/// staged. Execute must be quick and pure CPU (it may run on an I/O thread or on an engine's writer thread),
/// may run exactly once, and may read or write only the keys it declares.
/// </summary>
public interface IStorageOperation
{
    /// <summary>How many keys Execute may read or write.</summary>
    int TouchedKeyCount { get; }

    /// <summary>Key <paramref name="index"/> of those Execute may read or write.</summary>
    byte[] GetTouchedKey(int index);

    /// <summary>
    /// True when what Execute writes does not depend on what it reads (a plain SET or MSET). A cluster
    /// coordinator then skips the read and writes with the coordinating replica's own context, which under
    /// last-writer-wins supersedes everything that replica has seen: one round trip instead of two.
    /// </summary>
    bool IsBlindWrite => false;

    void Execute(IStorageTransaction transaction);
}
