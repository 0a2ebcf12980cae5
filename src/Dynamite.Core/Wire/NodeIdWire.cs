using System.Text;
using Dynamite.Core.Membership;

namespace Dynamite.Core.Wire;

/// <summary>
/// A node id in the core's binary encodings: one length byte (ids are at most <see cref="NodeId.MaxByteLength"/>
/// bytes) and the UTF-8 bytes. Shared by every encoding that names actors (version vectors, dot contexts, element
/// writes), so they read and reject ids the same way.
/// </summary>
internal static class NodeIdWire
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

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

        string text;
        try
        {
            text = StrictUtf8.GetString(reader.ReadBytes(length));
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"Node id at offset {offset} is not valid UTF-8.");
        }

        if (!NodeId.TryCreate(text, out NodeId node))
        {
            throw new FormatException($"Node id at offset {offset} is not a valid node id.");
        }

        return node;
    }
}
