using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// A node that does not coordinate a key's writes → a primary of the key: run this client command (its arguments as
/// the client sent them, the command name first) as if its client were connected there, and answer its reply as RESP
/// of <see cref="ProtocolVersion"/> (a <see cref="ForwardCommandReply"/>), which the forwarding node sends on as it is.
/// </summary>
public sealed record ForwardCommand(byte ProtocolVersion, IReadOnlyList<byte[]> Arguments) : IPeerMessage<ForwardCommand>
{
    /// <summary>The most arguments one forwarded command carries (a command of one key: HSET with many fields).</summary>
    public const int MaxArguments = 1 << 16;

    public static PeerMessageType MessageType => PeerMessageType.ForwardCommand;

    public PeerMessageType Type => MessageType;

    public int PayloadLength
    {
        get
        {
            int length = 1 + 4;
            foreach (byte[] argument in Arguments)
            {
                length += PeerPayloadWriter.BytesSize(argument, PeerLimits.MaxObjectBytes, nameof(Arguments));
            }

            return length;
        }
    }

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteByte(writer, ProtocolVersion);
        PeerPayloadWriter.WriteInt32(writer, Arguments.Count);
        foreach (byte[] argument in Arguments)
        {
            PeerPayloadWriter.WriteBytes(writer, argument, PeerLimits.MaxObjectBytes, nameof(Arguments));
        }
    }

    public override string ToString() =>
        $"{nameof(ForwardCommand)} {{ {nameof(ProtocolVersion)} = {ProtocolVersion}, {nameof(Arguments)} = [{string.Join(", ", Arguments.Select(static a => Convert.ToHexString(a)))}] }}";

    public static ForwardCommand Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte protocol = reader.ReadByte("protocol version");
        if (protocol is not (2 or 3))
        {
            throw new PeerProtocolException($"{MessageType} payload: protocol version {protocol} is not 2 or 3");
        }

        int count = reader.ReadInt32("argument count");
        // Each argument takes at least its 4-byte length, so a count the payload cannot hold is refused before allocating.
        if (count < 1 || count > MaxArguments || count > (payload.Length - 5) / 4)
        {
            throw new PeerProtocolException($"{MessageType} payload: {count} arguments (1 to {MaxArguments}, and what the payload can hold)");
        }

        var arguments = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            arguments[i] = reader.ReadBytes("argument", PeerLimits.MaxObjectBytes);
        }

        reader.EnsureEnd();
        return new ForwardCommand(protocol, arguments);
    }
}
