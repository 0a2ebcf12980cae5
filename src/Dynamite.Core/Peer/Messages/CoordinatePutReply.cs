using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>The outcome of a forwarded write: stored at its quorum, or the reason the client should see.</summary>
public sealed record CoordinatePutReply(bool Stored, string Reason) : IPeerMessage<CoordinatePutReply>
{
    public static PeerMessageType MessageType => PeerMessageType.CoordinatePutReply;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 1 + PeerPayloadWriter.StringSize(Reason, PeerLimits.MaxTextBytes, nameof(Reason));

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteByte(writer, Stored ? (byte)1 : (byte)0);
        PeerPayloadWriter.WriteString(writer, Reason, PeerLimits.MaxTextBytes, nameof(Reason));
    }

    public static CoordinatePutReply Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte stored = reader.ReadByte("stored flag");
        string reason = reader.ReadString("reason", PeerLimits.MaxTextBytes);
        reader.EnsureEnd();
        if (stored > 1)
        {
            throw new PeerProtocolException($"{MessageType} payload: invalid stored flag");
        }

        return new CoordinatePutReply(stored == 1, reason);
    }
}
