using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Memory;

/// <summary>
/// What a key occupies, estimated: its name, its stored record, and for a collection a fixed allowance per element (the
/// elements are not read; Redis samples five of them for the same purpose). MEMORY USAGE answers it, and eviction
/// counts it as what removing the key frees.
/// </summary>
internal static class KeyFootprint
{
    /// <summary>Per-key bookkeeping beside the name and the record (a redis-server key costs about as much).</summary>
    private const long KeyOverheadBytes = 56;

    /// <summary>The allowance for one element of a collection: its record key, its state and a typical short name and value.</summary>
    private const long ElementAllowanceBytes = 64;

    public static long Estimate(int keyLength, StoredRecord record)
    {
        long bytes = KeyOverheadBytes + keyLength + record.Value.Length;
        if (record.IsTypedHeader)
        {
            bytes += TypedKeyRecord.CountOf(record.Value) * ElementAllowanceBytes;
        }

        return bytes;
    }
}
