using System.Buffers.Binary;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.KeyValue;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// What a node stores as a typed key's record (<see cref="RecordKind.TypedHeader"/>, docs/DATA-TYPES.md "Storage"):
/// the replicated <see cref="KeyHeader"/>, this replica's count of the key's present elements and, on a cluster
/// replica, a digest of every element it stores. Count and digest are local (derived from the elements stored here,
/// kept exact by every operation that changes one, never joined): the count makes HLEN and SCARD one record read
/// instead of a scan, and the digest makes two replicas' records differ whenever their elements do, so anti-entropy
/// (whose Merkle trees hash the record) sees a replica that missed a remove: a remove mints no dot, so it changes
/// the elements but not the header's context.
/// <para>
/// Binary form: element count (8, little-endian; its top bit set when a digest follows) ‖ the digest (8, little-endian,
/// only with that bit) ‖ <see cref="KeyHeader.Encode"/>. A record without a digest (written by a standalone node, or
/// before digests existed) has <see cref="ElementDigest"/> null; the cluster's join computes it from the elements the
/// first time it changes such a key.
/// </para>
/// </summary>
/// <param name="Header">The key's replicated header (type, context, expiry).</param>
/// <param name="ElementCount">How many elements of the key are present on this node.</param>
/// <param name="ElementDigest">
/// The XOR of <see cref="DigestOf"/> over every element stored here (present or holding resets only); null when not
/// kept. Any change of the elements must set it again or drop it (<c>with { ElementDigest = null }</c>).
/// </param>
public sealed record TypedKeyRecord(KeyHeader Header, long ElementCount, ulong? ElementDigest = null)
{
    private const int CountLength = sizeof(long);
    private const int DigestLength = sizeof(ulong);
    private const long DigestFlag = long.MinValue;

    public byte[] Encode()
    {
        byte[] header = Header.Encode();
        int prefix = PrefixLength(ElementDigest is not null);
        byte[] bytes = new byte[prefix + header.Length];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, ElementDigest is null ? ElementCount : ElementCount | DigestFlag);
        if (ElementDigest is ulong digest)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(CountLength), digest);
        }

        header.CopyTo(bytes.AsSpan(prefix));
        return bytes;
    }

    /// <summary>The record an engine stores: the encoding, the header's expiry (so the engine's sweep finds the key), the typed kind.</summary>
    public StoredRecord ToStoredRecord() => new(Encode(), Header.ExpiresAtUnixMs, RecordKind.TypedHeader);

    /// <summary>Reads a whole encoded record; malformed input is a <see cref="FormatException"/>.</summary>
    public static TypedKeyRecord Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length <= CountLength)
        {
            throw new FormatException($"A typed key record of {encoded.Length} bytes is too short.");
        }

        long stored = BinaryPrimitives.ReadInt64LittleEndian(encoded);
        bool hasDigest = (stored & DigestFlag) != 0;
        long count = stored & long.MaxValue;
        int prefix = PrefixLength(hasDigest);
        if (encoded.Length <= prefix)
        {
            throw new FormatException($"A typed key record of {encoded.Length} bytes is too short for its element digest.");
        }

        ulong? digest = hasDigest ? BinaryPrimitives.ReadUInt64LittleEndian(encoded[CountLength..]) : null;
        return new TypedKeyRecord(KeyHeader.Decode(encoded[prefix..]), count, digest);
    }

    /// <summary>The type alone, without decoding the context (TYPE, SCAN ... TYPE, WRONGTYPE checks).</summary>
    public static DataType TypeOf(ReadOnlySpan<byte> encoded)
    {
        // The header's type byte follows its format byte.
        int typeOffset = encoded.Length > CountLength ? PrefixLength(HasDigest(encoded)) + 1 : 0;
        return typeOffset > 0 && encoded.Length > typeOffset && DataTypeNames.IsDefined(encoded[typeOffset])
            ? (DataType)encoded[typeOffset]
            : throw new FormatException("A typed key record has no known type.");
    }

    /// <summary>The element count alone.</summary>
    public static long CountOf(ReadOnlySpan<byte> encoded) =>
        encoded.Length > CountLength ? BinaryPrimitives.ReadInt64LittleEndian(encoded) & long.MaxValue : throw new FormatException("A typed key record is too short.");

    /// <summary>
    /// One stored element's share of <see cref="ElementDigest"/>: XXH64 of its name and the XXH64 of its encoded state,
    /// never 0. Equal states encode equally (writes sorted by dot, resets by chain), so equal elements give equal digests.
    /// </summary>
    public static ulong DigestOf(ReadOnlySpan<byte> name, ReadOnlySpan<byte> encodedState) =>
        PartitionMerkleTree.KeyDigest(name, PartitionMerkleTree.VersionDigest(encodedState));

    private static bool HasDigest(ReadOnlySpan<byte> encoded) => (BinaryPrimitives.ReadInt64LittleEndian(encoded) & DigestFlag) != 0;

    private static int PrefixLength(bool hasDigest) => hasDigest ? CountLength + DigestLength : CountLength;
}
