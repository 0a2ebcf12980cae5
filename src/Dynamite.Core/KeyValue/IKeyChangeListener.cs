namespace Dynamite.Core.KeyValue;

/// <summary>
/// Learns which keys' records a storage commit changed, whoever wrote them (a client's command, a transaction, a script,
/// a replica write from another node, a repair): clients blocked on a key (BZPOPMIN, BLPOP) wait on it to try again.
/// Called on the engine's writer after the commit, so it must only signal, never wait or write.
/// </summary>
public interface IKeyChangeListener
{
    /// <summary>False while nobody waits: the engine then skips the per-key calls.</summary>
    bool IsListening { get; }

    /// <summary>The record of <paramref name="key"/> was written or deleted by a commit that has completed.</summary>
    void OnChanged(byte[] key);
}
