using System.Diagnostics.CodeAnalysis;
using Dynamite.Core.KeyValue;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// A read-only <see cref="IStorageTransaction"/> over the quorum reads of several keys, each a <see cref="JoinedKeyView"/>:
/// an <see cref="IMultiKeyElementReadOperation"/> runs over it as over a single node's engine. A key that was not read
/// reads as absent; writes throw.
/// </summary>
public sealed class JoinedKeysView(IReadOnlyDictionary<byte[], JoinedKeyView> views, long nowUnixMs) : IStorageTransaction
{
    public long NowUnixMs => nowUnixMs;

    public bool TryRead(ReadOnlySpan<byte> key, out StoredRecord record)
    {
        record = default;
        return Find(key) is { } view && view.TryRead(key, out record);
    }

    public bool TryReadElement(ReadOnlySpan<byte> key, ReadOnlySpan<byte> element, [MaybeNullWhen(false)] out byte[] value)
    {
        value = null;
        return Find(key) is { } view && view.TryReadElement(key, element, out value);
    }

    public ElementPage ScanElements(ReadOnlySpan<byte> key, byte[]? afterElement, int limit) =>
        Find(key) is { } view ? view.ScanElements(key, afterElement, limit) : ElementPage.Empty;

    public void Write(byte[] key, StoredRecord record) => throw ReadOnly();

    public void Delete(byte[] key) => throw ReadOnly();

    public void WriteElement(byte[] key, byte[] element, byte[] value) => throw ReadOnly();

    public void DeleteElement(byte[] key, byte[] element) => throw ReadOnly();

    public void DeleteAllElements(byte[] key) => throw ReadOnly();

    private JoinedKeyView? Find(ReadOnlySpan<byte> key)
    {
        foreach ((byte[] name, JoinedKeyView view) in views)
        {
            if (key.SequenceEqual(name))
            {
                return view;
            }
        }

        return null;
    }

    private static InvalidOperationException ReadOnly() => new("A joined read of typed keys is read-only: an element read operation must not write.");
}
