using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>The reply (type <see cref="PeerMessageType.Error"/>) to a request that could not be served.</summary>
public sealed record ErrorMessage(PeerErrorCode Code, string Message) : IPeerMessage<ErrorMessage>
{
    public static PeerMessageType MessageType => PeerMessageType.Error;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 2 + PeerPayloadWriter.StringSize(Message, PeerLimits.MaxTextBytes, nameof(Message));

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteUInt16(writer, (ushort)Code);
        PeerPayloadWriter.WriteString(writer, Message, PeerLimits.MaxTextBytes, nameof(Message));
    }

    /// <summary>Truncates a message to the wire limit (an exception text can be long) on a character boundary.</summary>
    public static ErrorMessage Create(PeerErrorCode code, string message)
    {
        const int MaxChars = PeerLimits.MaxTextBytes / 4;
        return new ErrorMessage(code, message.Length > MaxChars ? message[..MaxChars] : message);
    }

    public static ErrorMessage Read(ReadOnlySpan<byte> payload)
    {
        // An unknown code is kept, not refused: a newer peer may send codes this node does not know yet.
        var reader = new PeerPayloadReader(payload, MessageType);
        var code = (PeerErrorCode)reader.ReadUInt16("code");
        string message = reader.ReadString("message", PeerLimits.MaxTextBytes);
        reader.EnsureEnd();
        return new ErrorMessage(code, message);
    }
}
