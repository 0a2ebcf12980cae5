using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Coordinator → fallback replica (sloppy quorum): keep this typed key's change (an encoded
/// <see cref="DataTypes.KeyDelta"/>) on behalf of <paramref name="IntendedNodeId"/>, which is unreachable, and hand it
/// over when that node comes back; a <see cref="HintedPut"/> for typed keys. Answered by a <see cref="ReplicaPutAck"/>.
/// </summary>
public sealed record HintedDelta(string IntendedNodeId, ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> EncodedDelta) : IPeerMessage<HintedDelta>
{
    public static PeerMessageType MessageType => PeerMessageType.HintedDelta;

    public PeerMessageType Type => MessageType;

    public int PayloadLength =>
        PeerPayloadWriter.StringSize(IntendedNodeId, PeerLimits.MaxNameBytes, nameof(IntendedNodeId))
        + PeerPayloadWriter.BytesSize(Key, PeerLimits.MaxKeyBytes, nameof(Key))
        + PeerPayloadWriter.BytesSize(EncodedDelta, PeerLimits.MaxObjectBytes, nameof(EncodedDelta));

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteString(writer, IntendedNodeId, PeerLimits.MaxNameBytes, nameof(IntendedNodeId));
        PeerPayloadWriter.WriteBytes(writer, Key.Span, PeerLimits.MaxKeyBytes, nameof(Key));
        PeerPayloadWriter.WriteBytes(writer, EncodedDelta.Span, PeerLimits.MaxObjectBytes, nameof(EncodedDelta));
    }

    public static HintedDelta Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        string intended = reader.ReadString("intended node id", PeerLimits.MaxNameBytes);
        byte[] key = reader.ReadBytes("key", PeerLimits.MaxKeyBytes);
        byte[] delta = reader.ReadBytes("delta", PeerLimits.MaxObjectBytes);
        reader.EnsureEnd();
        if (intended.Length == 0)
        {
            throw new PeerProtocolException($"{MessageType} payload: the intended node id is empty");
        }

        return new HintedDelta(intended, key, delta);
    }
}
