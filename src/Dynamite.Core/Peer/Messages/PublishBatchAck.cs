using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>A member → the publishing node: the batch is delivered; how many subscriber deliveries it made there.</summary>
public sealed record PublishBatchAck(int Deliveries) : IPeerMessage<PublishBatchAck>
{
    public static PeerMessageType MessageType => PeerMessageType.PublishBatchAck;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 4;

    public void Write(IBufferWriter<byte> writer) => PeerPayloadWriter.WriteInt32(writer, Deliveries);

    public static PublishBatchAck Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        int deliveries = reader.ReadInt32("deliveries");
        reader.EnsureEnd();
        if (deliveries < 0)
        {
            throw new PeerProtocolException($"{MessageType} payload: {deliveries} deliveries");
        }

        return new PublishBatchAck(deliveries);
    }
}
