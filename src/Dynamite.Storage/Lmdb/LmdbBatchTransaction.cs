using Dynamite.Core.KeyValue;
using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// The LMDB group's view (<see cref="BatchTransaction"/>): the committed state is read in the group's write transaction,
/// which nothing has been written to yet (the writer applies the group only when it commits).
/// </summary>
internal sealed class LmdbBatchTransaction(RecordCache cache, LmdbStore store) : BatchTransaction(cache)
{
    /// <summary>The group's write transaction; set by the writer before the group's first operation runs, null between groups.</summary>
    public LightningTransaction? Transaction { get; set; }

    protected override bool TryReadStored(ReadOnlySpan<byte> key, out long storedExpiry, out StoredRecord? liveRecord)
    {
        LightningTransaction transaction = Transaction ?? throw new InvalidOperationException("The writer has no write transaction open.");
        return store.TryReadStoredKey(transaction, key, NowUnixMs, out storedExpiry, out liveRecord);
    }
}
