namespace Dynamite.Core.KeyValue;

/// <summary>
/// The view an <see cref="IStorageOperation"/> runs against: reads see the engine's state plus the
/// operation's own staged changes; writes are staged and applied all-or-nothing after the operation returns.
/// Threading: valid only during <see cref="IStorageOperation.Execute"/>, on the thread that called it.
/// </summary>
public interface IStorageTransaction
{
    /// <summary>The time the operation runs at; records expired at this time read as absent.</summary>
    long NowUnixMs { get; }

    /// <summary>Reads a live record; an expired or absent key returns false.</summary>
    bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record);

    /// <summary>Stages a write of <paramref name="record"/> under <paramref name="key"/>. The engine keeps both arrays: callers pass copies they own.</summary>
    void Write(byte[] key, StoredRecord record);

    /// <summary>Stages a delete of <paramref name="key"/>.</summary>
    void Delete(byte[] key);
}
