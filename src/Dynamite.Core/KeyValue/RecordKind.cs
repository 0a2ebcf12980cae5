namespace Dynamite.Core.KeyValue;

/// <summary>
/// What a key's record holds (docs/DATA-TYPES.md, "Storage"). A standalone node stores a string's value raw, so a
/// typed key's header must be told apart by the record itself, not by its bytes. Persisted by every engine (a flag
/// in the RocksDB and LMDB record header, a column in SQLite): append only, never renumbered.
/// </summary>
public enum RecordKind : byte
{
    /// <summary>A plain value (a standalone string, or a cluster node's versioned object): the default.</summary>
    Value = 0,

    /// <summary>A typed key's header (<see cref="DataTypes.KeyHeader"/> and what the node keeps beside it); its elements hold the data.</summary>
    TypedHeader = 1,
}
