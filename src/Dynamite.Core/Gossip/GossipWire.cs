using System.Text;
using Dynamite.Core.Membership;
using Dynamite.Core.Wire;

namespace Dynamite.Core.Gossip;

/// <summary>Field encodings shared by <see cref="ClusterState"/> and <see cref="RingState"/>; malformed input ends in a <see cref="FormatException"/>.</summary>
internal static class GossipWire
{
    /// <summary>Datacenter, rack and address names; generous, but bounded so garbage cannot allocate much.</summary>
    public const int MaxNameBytes = 300;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string ReadString(ref WireReader reader, string what, int maxBytes = MaxNameBytes)
    {
        int length = reader.ReadCount(Math.Min(maxBytes, reader.Remaining), what);
        ReadOnlySpan<byte> bytes = reader.ReadBytes(length);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException exception)
        {
            throw new FormatException($"{what} is not valid UTF-8.", exception);
        }
    }

    public static void WriteDescriptor(GrowableWireWriter writer, NodeDescriptor node)
    {
        writer.WriteString(node.Id.Value);
        writer.WriteString(node.Datacenter);
        writer.WriteString(node.Rack);
    }

    public static NodeDescriptor ReadDescriptor(ref WireReader reader)
    {
        string id = ReadString(ref reader, "node id");
        string datacenter = ReadString(ref reader, "datacenter");
        string rack = ReadString(ref reader, "rack");
        if (!NodeId.TryCreate(id, out NodeId nodeId))
        {
            throw new FormatException($"'{id}' is not a valid node id.");
        }

        if (string.IsNullOrWhiteSpace(datacenter) || string.IsNullOrWhiteSpace(rack))
        {
            throw new FormatException($"Node {id} has an empty datacenter or rack.");
        }

        return new NodeDescriptor(nodeId, datacenter, rack);
    }
}
