using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Sqlite;

/// <summary>
/// The <c>index_entries</c> table as one connection reads it (the writer's, inside a group; or a pooled reader's):
/// pages from either end or a bound, each one B-tree seek and a walk.
/// </summary>
internal sealed class SqliteIndexReads(Func<string, SqliteStatement> prepare) : IElementReader
{
    private readonly SqliteStatement _first = prepare(SqliteSchema.SelectIndexFirst);
    private readonly SqliteStatement _after = prepare(SqliteSchema.SelectIndexAfter);
    private readonly SqliteStatement _last = prepare(SqliteSchema.SelectIndexLast);
    private readonly SqliteStatement _before = prepare(SqliteSchema.SelectIndexBefore);

    public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) =>
        throw new NotSupportedException("Index entries are only scanned.");

    public bool ReadElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit, List<StoredElement> into) =>
        SqliteSchema.ReadElements(_first, _after, key, afterElement, limit, into, withValues: false);

    public bool ReadElementsBackward(ReadOnlySpan<byte> key, byte[]? beforeElement, int limit, List<StoredElement> into) =>
        SqliteSchema.ReadElements(_last, _before, key, beforeElement, limit, into, withValues: false);

    /// <summary>Statements first, as <see cref="SqliteReadConnection.Dispose"/> explains.</summary>
    public void Dispose()
    {
        _first.Dispose();
        _after.Dispose();
        _last.Dispose();
        _before.Dispose();
    }
}

/// <summary>The writer's side of <c>index_entries</c>: its reads inside a group, and the three writes of a commit.</summary>
internal sealed class SqliteIndexEntries(Func<string, SqliteStatement> prepare)
{
    private readonly SqliteStatement _insert = prepare(SqliteSchema.InsertIndexEntry);
    private readonly SqliteStatement _delete = prepare(SqliteSchema.DeleteIndexEntry);
    private readonly SqliteStatement _deleteKey = prepare(SqliteSchema.DeleteKeyIndexEntries);

    public SqliteIndexReads Reads { get; } = new(prepare);

    public void Write(StagedElementChange change) => Change(_insert, change.KeyHash, change.Key, change.Element);

    public void Delete(StagedElementChange change) => Change(_delete, change.KeyHash, change.Key, change.Element);

    public void DeleteKey(StagedElementChange change) => Change(_deleteKey, change.KeyHash, change.Key, null);

    private static void Change(SqliteStatement statement, ulong keyHash, byte[] key, byte[]? entry)
    {
        statement.BindInt64(1, SqliteSchema.EncodeHash(keyHash));
        statement.BindBlob(2, key);
        if (entry is not null)
        {
            statement.BindBlob(3, entry);
        }

        statement.Execute();
    }
}
