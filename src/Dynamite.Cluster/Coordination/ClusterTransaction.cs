using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// What an <see cref="IStorageOperation"/> runs against in a cluster: reads come from the quorum reads the
/// store made of every key the operation declared; writes and deletes are staged for the store to send as
/// quorum writes afterwards. Reading an undeclared key is a bug in the operation and throws.
/// Elements are refused: a quorum read-modify-write carries whole key records, while a typed key's commands run on a
/// replica's engine and replicate deltas (docs/DATA-TYPES.md, "How the Dynamo core carries any type"). A typed key a
/// key command reads (DEL, EXPIRE of a hash) is its joined header here, and the store makes what is staged for it a delta.
/// Not thread-safe: used only during one Execute call.
/// </summary>
internal sealed class ClusterTransaction(byte[][] keys, ReadResult[] reads, long nowUnixMs) : IStorageTransaction
{
    /// <summary>Per declared key: whether it was written or deleted, and the record (null: delete).</summary>
    private readonly (bool Changed, StoredRecord? Record)[] _changes = new (bool, StoredRecord?)[keys.Length];

    /// <summary>Per declared key: the fields a bit command wrote with its record (null: a whole value or a delete). Made by
    /// the first bit write: a SET, every client write's common case, never needs it.</summary>
    private byte[]?[]? _bitPatches;

    public long NowUnixMs => nowUnixMs;

    public bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record)
    {
        int index = IndexOf(key);
        if (_changes[index].Changed)
        {
            record = _changes[index].Record ?? default;
            return _changes[index].Record is { } staged && !staged.IsExpiredAt(nowUnixMs);
        }

        record = reads[index].Record;
        return reads[index].Found;
    }

    public void Write(byte[] key, StoredRecord record)
    {
        int index = IndexOf(key);
        _changes[index] = (true, record);
        _bitPatches?[index] = null;
    }

    public void WriteBits(byte[] key, StoredRecord record, byte[] bitPatches)
    {
        int index = IndexOf(key);
        _changes[index] = (true, record);
        (_bitPatches ??= new byte[keys.Length][])[index] = bitPatches;
    }

    public void Delete(byte[] key)
    {
        int index = IndexOf(key);
        _changes[index] = (true, null);
        _bitPatches?[index] = null;
    }

    public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value) => throw ElementsNotCarried();

    public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit) => throw ElementsNotCarried();

    public void WriteElement(byte[] key, byte[] element, byte[] value) => throw ElementsNotCarried();

    public void DeleteElement(byte[] key, byte[] element) => throw ElementsNotCarried();

    /// <summary>
    /// Nothing to stage: an operation calls it when it gives a key a record of another kind, and the store answers for
    /// that from the record it staged (a string over a typed key is refused; a typed key's removal is a delta).
    /// </summary>
    public void DeleteAllElements(byte[] key)
    {
    }

    /// <summary>The fields a bit command wrote with key <paramref name="index"/>'s staged record; null for a whole value or a delete.</summary>
    public byte[]? BitPatchesOf(int index) => _bitPatches?[index];

    /// <summary>Whether key <paramref name="index"/> was changed, and how (null record: deleted).</summary>
    public bool TryGetChange(int index, out StoredRecord? record)
    {
        record = _changes[index].Record;
        return _changes[index].Changed;
    }

    private static NotSupportedException ElementsNotCarried() =>
        new("A cluster read-modify-write carries key records only; element operations run on a replica's engine.");

    private int IndexOf(ReadOnlySpan<byte> key)
    {
        for (int i = 0; i < keys.Length; i++)
        {
            if (key.SequenceEqual(keys[i]))
            {
                return i;
            }
        }

        throw new InvalidOperationException("The operation touched a key it did not declare.");
    }
}
