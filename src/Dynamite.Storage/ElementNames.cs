using Dynamite.Core.KeyValue;

namespace Dynamite.Storage;

/// <summary>
/// The order of element names every engine returns: byte order, a name that is a prefix of another first
/// (what RocksDB's and LMDB's bytewise comparators and SQLite's BLOB comparison do).
/// </summary>
internal sealed class ElementNames : IComparer<StoredElement>
{
    /// <summary>The most elements a page list is created for up front; larger limits grow it as elements come.</summary>
    public const int InitialPageCapacity = 256;

    /// <summary>Orders elements by name alone: the memory engine's sorted sets hold one element per name.</summary>
    public static ElementNames Order { get; } = new();

    public static int Compare(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) => x.SequenceCompareTo(y);

    /// <summary>True when <paramref name="name"/> sorts after <paramref name="afterElement"/> (always, when that is null: from the start).</summary>
    public static bool IsAfter(ReadOnlySpan<byte> name, byte[]? afterElement) => afterElement is null || name.SequenceCompareTo(afterElement) > 0;

    public int Compare(StoredElement x, StoredElement y) => x.Name.AsSpan().SequenceCompareTo(y.Name);
}
