using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Coordinator → fallback replica (sloppy quorum): store this put on behalf of <paramref name="IntendedNodeId"/>,
/// which is unreachable, and hand it over when that node comes back (Dynamo, hinted handoff).
/// </summary>
public sealed record HintedPut(string IntendedNodeId, ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> EncodedObject) : IPeerMessage<HintedPut>
{
    public static PeerMessageType MessageType => PeerMessageType.HintedPut;

    public PeerMessageType Type => MessageType;

    public int PayloadLength =>
        PeerPayloadWriter.StringSize(IntendedNodeId, PeerLimits.MaxNameBytes, nameof(IntendedNodeId))
        + PeerPayloadWriter.BytesSize(Key, PeerLimits.MaxKeyBytes, nameof(Key))
        + PeerPayloadWriter.BytesSize(EncodedObject, PeerLimits.MaxObjectBytes, nameof(EncodedObject));

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteString(writer, IntendedNodeId, PeerLimits.MaxNameBytes, nameof(IntendedNodeId));
        PeerPayloadWriter.WriteBytes(writer, Key.Span, PeerLimits.MaxKeyBytes, nameof(Key));
        PeerPayloadWriter.WriteBytes(writer, EncodedObject.Span, PeerLimits.MaxObjectBytes, nameof(EncodedObject));
    }

    public static HintedPut Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        string intended = reader.ReadString("intended node id", PeerLimits.MaxNameBytes);
        byte[] key = reader.ReadBytes("key", PeerLimits.MaxKeyBytes);
        byte[] value = reader.ReadBytes("object", PeerLimits.MaxObjectBytes);
        reader.EnsureEnd();
        if (intended.Length == 0)
        {
            throw new PeerProtocolException($"{MessageType} payload: the intended node id is empty");
        }

        return new HintedPut(intended, key, value);
    }
}
