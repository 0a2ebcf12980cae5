using System.Buffers;
using Dynamite.Core.PubSub;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// A node → another member: messages published by its clients, in publish order, for the subscribers there. Layout:
/// i32 count, then per message a kind byte (0 a channel, 1 a shard channel), the channel and the payload.
/// </summary>
public sealed record PublishBatch(IReadOnlyList<PublishedMessage> Messages) : IPeerMessage<PublishBatch>
{
    /// <summary>The most messages one batch carries (a sender sends the rest in the next).</summary>
    public const int MaxMessages = 4096;

    public static PeerMessageType MessageType => PeerMessageType.PublishBatch;

    public PeerMessageType Type => MessageType;

    public int PayloadLength
    {
        get
        {
            int length = 4;
            foreach (PublishedMessage message in Messages)
            {
                length += 1
                    + PeerPayloadWriter.BytesSize(message.Channel, PeerLimits.MaxKeyBytes, "channel")
                    + PeerPayloadWriter.BytesSize(message.Payload, PeerLimits.MaxObjectBytes, "payload");
            }

            return length;
        }
    }

    public void Write(IBufferWriter<byte> writer)
    {
        if (Messages.Count is 0 or > MaxMessages)
        {
            throw new ArgumentException($"a publish batch carries 1 to {MaxMessages} messages, not {Messages.Count}");
        }

        PeerPayloadWriter.WriteInt32(writer, Messages.Count);
        foreach (PublishedMessage message in Messages)
        {
            PeerPayloadWriter.WriteByte(writer, message.Sharded ? (byte)1 : (byte)0);
            PeerPayloadWriter.WriteBytes(writer, message.Channel, PeerLimits.MaxKeyBytes, "channel");
            PeerPayloadWriter.WriteBytes(writer, message.Payload, PeerLimits.MaxObjectBytes, "payload");
        }
    }

    public override string ToString() => $"{nameof(PublishBatch)} {{ {Messages.Count} messages }}";

    public static PublishBatch Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        int count = reader.ReadInt32("message count");
        // Each message takes at least a kind byte and two 4-byte lengths.
        if (count < 1 || count > MaxMessages || count > (payload.Length - 4) / 9)
        {
            throw new PeerProtocolException($"{MessageType} payload: {count} messages (1 to {MaxMessages}, and what the payload can hold)");
        }

        var messages = new PublishedMessage[count];
        for (int i = 0; i < count; i++)
        {
            byte kind = reader.ReadByte("kind");
            if (kind > 1)
            {
                throw new PeerProtocolException($"{MessageType} payload: message kind {kind} is not 0 (channel) or 1 (shard channel)");
            }

            byte[] channel = reader.ReadBytes("channel", PeerLimits.MaxKeyBytes);
            byte[] body = reader.ReadBytes("payload", PeerLimits.MaxObjectBytes);
            messages[i] = new PublishedMessage(channel, body, kind == 1);
        }

        reader.EnsureEnd();
        return new PublishBatch(messages);
    }
}
