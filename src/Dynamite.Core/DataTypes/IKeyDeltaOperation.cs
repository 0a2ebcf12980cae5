using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// A typed key's command as a cluster runs it (docs/DATA-TYPES.md, "Deltas"): on a replica of its key, inside one
/// storage operation, it reads that replica's state and says what it changes, as a <see cref="KeyDelta"/>. The replica
/// joins the delta into its own state in the same operation (<see cref="TypedKeyJoin"/>), so it holds exactly what
/// every other replica will once the same delta arrives, and ships it to them.
/// </summary>
public interface IKeyDeltaOperation
{
    /// <summary>The one key the command changes.</summary>
    byte[] Key { get; }

    /// <summary>
    /// The command's change, built from what <paramref name="transaction"/> reads of the key, with new dots of
    /// <paramref name="actor"/>; null when it changes nothing (a key of another type, HSETNX of a present field).
    /// Called once, inside the storage operation, and must not write: the caller joins what it returns.
    /// </summary>
    KeyDelta? BuildDelta(IStorageTransaction transaction, NodeId actor);

    /// <summary>Called in the same operation once the delta is joined: reads what the reply needs (a counter's new value).</summary>
    void AfterJoin(IStorageTransaction transaction);
}
