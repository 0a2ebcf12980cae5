using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>Replica → tombstone collector: how many of the <see cref="CollectTombstones"/> keys it removed (the others had changed or were gone).</summary>
public sealed record CollectTombstonesAck(int Removed) : IPeerMessage<CollectTombstonesAck>
{
    public static PeerMessageType MessageType => PeerMessageType.CollectTombstonesAck;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 4;

    public void Write(IBufferWriter<byte> writer) => PeerPayloadWriter.WriteInt32(writer, Removed);

    public static CollectTombstonesAck Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        int removed = reader.ReadInt32("removed");
        reader.EnsureEnd();
        if (removed < 0)
        {
            throw new PeerProtocolException($"{MessageType} payload: field 'removed' is negative");
        }

        return new CollectTombstonesAck(removed);
    }
}
