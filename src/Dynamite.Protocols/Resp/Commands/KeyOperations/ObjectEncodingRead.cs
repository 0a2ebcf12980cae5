using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.KeyOperations;

/// <summary>The encoding thresholds that <see cref="ObjectEncodingRead"/> applies, as <c>CONFIG SET</c> left them.</summary>
internal readonly record struct EncodingThresholds(long HashMaxEntries, long HashMaxValue, long SetMaxIntsetEntries, long SortedSetMaxEntries, long SortedSetMaxValue);

/// <summary>
/// OBJECT ENCODING: the encoding redis-server 7.0 gives a value with this content under the current thresholds, since
/// Dynamite stores every value one way (a string as a record, a collection's elements as records) and tools and tests
/// ask for Redis's names. A string is "int" when it is an integer of at most 20 characters, "embstr" up to 44
/// bytes, "raw" beyond; a hash "listpack" while its fields and values fit <c>hash-max-listpack-*</c>, else
/// "hashtable"; a sorted set "listpack" while its members fit <c>zset-max-listpack-*</c>, else "skiplist"; a set "intset" while it holds only integers and fits <c>set-max-intset-entries</c>, else "hashtable".
/// Unlike redis-server, which never converts back, the answer follows the current content. Reads at most one element past
/// the threshold; on a cluster node, by quorum.
/// </summary>
internal sealed class ObjectEncodingRead(byte[] key, EncodingThresholds thresholds) : IElementReadOperation
{
    /// <summary>Redis's longest string kept in one allocation with its object header (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).</summary>
    private const int EmbeddedStringLimit = 44;

    /// <summary>The longest integer Redis encodes as "int" (a long in decimal, with its sign).</summary>
    private const int IntegerLengthLimit = 20;

    /// <summary>Encodings at or under this element count are decided from one page of a cluster's read; larger thresholds read the key whole.</summary>
    private const int OnePage = ElementSelection.MaxElements;

    public byte[] Key => key;

    public IReadOnlyList<byte[]>? Names => null;

    public byte[]? After => null;

    public int Limit => ElementsToRead < OnePage ? (int)ElementsToRead : 0;

    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>The encoding's name; null when the key does not exist.</summary>
    public string? Encoding { get; private set; }

    /// <summary>True for a string Redis would keep as a shared integer object (0 to 9999), whose REFCOUNT is INT_MAX.</summary>
    public bool IsSharedInteger { get; private set; }

    /// <summary>Enough elements to tell either collection's encoding: one past the larger threshold.</summary>
    private long ElementsToRead => Math.Max(Math.Max(Math.Max(thresholds.HashMaxEntries, thresholds.SetMaxIntsetEntries), thresholds.SortedSetMaxEntries), 0) + 1;

    public void Execute(IStorageTransaction transaction)
    {
        Encoding = null;
        IsSharedInteger = false;
        if (!transaction.TryRead(key, out StoredRecord record))
        {
            return;
        }

        if (!record.IsTypedHeader)
        {
            Encoding = OfString(record.Value);
            return;
        }

        DataType type = TypedKeyRecord.TypeOf(record.Value);
        if (type == DataType.List)
        {
            // redis-server 7.0 keeps every list in a quicklist.
            Encoding = TypedKeyRecord.CountOf(record.Value) > 0 ? "quicklist" : null;
            return;
        }

        long limit = type switch
        {
            DataType.Hash => thresholds.HashMaxEntries,
            DataType.SortedSet => thresholds.SortedSetMaxEntries,
            _ => thresholds.SetMaxIntsetEntries,
        };
        long count = 0;
        bool compact = true;
        foreach (StoredElement element in TypedKey.AllElements(transaction, key))
        {
            if (type == DataType.String)
            {
                Encoding = OfString(ElementValue.Render(ElementState.Decode(element.Value)));
                return;
            }

            compact &= ++count <= limit && type switch
            {
                DataType.Hash => element.Name.Length <= thresholds.HashMaxValue && ElementValue.Render(ElementState.Decode(element.Value)).Length <= thresholds.HashMaxValue,
                DataType.SortedSet => element.Name.Length <= thresholds.SortedSetMaxValue,
                _ => RespNumbers.TryParseInt64(element.Name, out _),
            };
            if (!compact)
            {
                break;
            }
        }

        if (count == 0)
        {
            // A typed key whose last element went: absent.
            return;
        }

        Encoding = (type, compact) switch
        {
            (DataType.Hash, true) => "listpack",
            (DataType.Set, true) => "intset",
            (DataType.SortedSet, true) => "listpack",
            (DataType.SortedSet, false) => "skiplist",
            _ => "hashtable",
        };
    }

    private string OfString(byte[] value)
    {
        if (value.Length <= IntegerLengthLimit && RespNumbers.TryParseInt64(value, out long integer))
        {
            IsSharedInteger = integer is >= 0 and < 10000;
            return "int";
        }

        return value.Length <= EmbeddedStringLimit ? "embstr" : "raw";
    }
}
