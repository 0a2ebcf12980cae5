namespace Dynamite.Core.KeyValue;

/// <summary>
/// A view of a store whose writes are held back (<see cref="IKeyValueStore.BeginStaged"/>): its reads and operations see
/// them, the store does not, until <see cref="CommitAsync"/> applies all of them in one storage transaction. What a
/// single node's EXEC runs its commands against, so a transaction is durable whole or not at all.
/// </summary>
public interface IStagedKeyValueStore : IKeyValueStore
{
    /// <summary>True while nothing is held back.</summary>
    bool IsEmpty { get; }

    /// <summary>How many record and element changes are held back (each key's every change counted).</summary>
    int StagedChangeCount { get; }

    /// <summary>
    /// Applies everything held back in one storage transaction and starts holding back anew. Throws when the store
    /// failed, and then none of it was applied.
    /// </summary>
    ValueTask CommitAsync(CancellationToken cancellationToken = default);
}
