using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>Server → client: why the handshake failed; the server closes the connection after it.</summary>
public sealed record Refused(string Reason) : IPeerMessage<Refused>
{
    public static PeerMessageType MessageType => PeerMessageType.Refused;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => PeerPayloadWriter.StringSize(Reason, PeerLimits.MaxTextBytes, nameof(Reason));

    public void Write(IBufferWriter<byte> writer) =>
        PeerPayloadWriter.WriteString(writer, Reason, PeerLimits.MaxTextBytes, nameof(Reason));

    public static Refused Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        string reason = reader.ReadString("reason", PeerLimits.MaxTextBytes);
        reader.EnsureEnd();
        return new Refused(reason);
    }
}
