namespace Dynamite.Storage.Lmdb;

/// <summary>
/// A write did not fit: the LMDB database reached its map size (LMDB's <c>MDB_MAP_FULL</c>). The write transaction
/// that met it was aborted whole, so nothing of the failed writes was applied; reads, deletes and writes that fit in
/// the pages freed by deletes keep working.
/// </summary>
public sealed class LmdbMapFullException : IOException
{
    public LmdbMapFullException(string databasePath, long mapSizeBytes, Exception? innerException = null)
        : base(
            $"the LMDB database '{databasePath}' is full: it reached its map size of {mapSizeBytes} bytes, and the write " +
            "was not applied. Delete keys, or reopen it with a larger map size.",
            innerException)
    {
        DatabasePath = databasePath;
        MapSizeBytes = mapSizeBytes;
    }

    public string DatabasePath { get; }

    public long MapSizeBytes { get; }
}
