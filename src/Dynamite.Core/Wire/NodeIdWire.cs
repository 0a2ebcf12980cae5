using System.Collections.Concurrent;
using System.Text;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;

namespace Dynamite.Core.Wire;

/// <summary>
/// A node id in the core's binary encodings: one length byte (ids are at most <see cref="NodeId.MaxByteLength"/>
/// bytes) and the UTF-8 bytes. Shared by every encoding that names actors (version vectors, dot contexts, element
/// writes), so they read and reject ids the same way.
/// <para>
/// Every replica write decodes the version vectors of two objects, each naming a node or more: the ids read are kept,
/// so reading a known id is a lookup, not a string allocation and a validation. A cluster has few ids; the table stops
/// growing at <see cref="MaxKnownIds"/> (ids past that are read as before), so no peer can make it grow without bound.
/// </para>
/// </summary>
internal static class NodeIdWire
{
    /// <summary>Most ids kept; far more than a cluster's members over its life.</summary>
    private const int MaxKnownIds = 4096;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly ConcurrentDictionary<byte[], NodeId> KnownIds = new(ByteArrayComparer.Instance);

    private static readonly ConcurrentDictionary<byte[], NodeId>.AlternateLookup<ReadOnlySpan<byte>> KnownIdsBySpan =
        KnownIds.GetAlternateLookup<ReadOnlySpan<byte>>();

    /// <summary>The bytes <see cref="Write"/> takes for <paramref name="node"/>.</summary>
    public static int SizeOf(NodeId node) => 1 + Encoding.UTF8.GetByteCount(node.Value);

    public static void Write(ref WireWriter writer, NodeId node)
    {
        Span<byte> id = stackalloc byte[NodeId.MaxByteLength];
        int length = Encoding.UTF8.GetBytes(node.Value, id);
        writer.WriteByte((byte)length);
        writer.WriteBytes(id[..length]);
    }

    /// <summary>Reads an id; a bad length, invalid UTF-8 or an id the constructor would refuse is a <see cref="FormatException"/>.</summary>
    public static NodeId Read(ref WireReader reader)
    {
        int offset = reader.Position;
        int length = reader.ReadByte();
        if (length is 0 or > NodeId.MaxByteLength)
        {
            throw new FormatException($"Node id length {length} at offset {offset} is out of range.");
        }

        ReadOnlySpan<byte> bytes = reader.ReadBytes(length);
        if (KnownIdsBySpan.TryGetValue(bytes, out NodeId known))
        {
            return known;
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"Node id at offset {offset} is not valid UTF-8.");
        }

        if (!NodeId.TryCreate(text, out NodeId node))
        {
            throw new FormatException($"Node id at offset {offset} is not a valid node id.");
        }

        if (KnownIds.Count < MaxKnownIds)
        {
            KnownIdsBySpan.TryAdd(bytes, node);
        }

        return node;
    }
}
