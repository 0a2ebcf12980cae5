using System.Buffers;
using Dynamite.Core.Quorum;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// A node that does not coordinate a key's writes → a primary of the key: run this client command (its arguments as
/// the client sent them, the command name first) as if its client were connected there, and answer its reply as RESP
/// of <see cref="ProtocolVersion"/> (a <see cref="ForwardCommandReply"/>), which the forwarding node sends on as it is,
/// at the client connection's <see cref="Consistency"/> (<c>DYN.CONSISTENCY</c>; null: the primary's defaults). Layout:
/// protocol byte, i32 argument count, the arguments; then a byte 0 (no consistency set), or 1 followed by its name, R
/// and W (i32: 0 the cluster default, -1 a majority) and a byte 1 when replies must agree.
/// </summary>
public sealed record ForwardCommand(byte ProtocolVersion, IReadOnlyList<byte[]> Arguments, ConsistencyLevel? Consistency = null) : IPeerMessage<ForwardCommand>
{
    private const int MaxConsistencyNameBytes = 64;

    /// <summary>The largest explicit R or W a forwarded command may ask for (far above any replication factor).</summary>
    private const int MaxQuorum = 255;

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

            length++;
            if (Consistency is { } consistency)
            {
                length += PeerPayloadWriter.StringSize(consistency.Name, MaxConsistencyNameBytes, nameof(Consistency)) + 4 + 4 + 1;
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

        PeerPayloadWriter.WriteByte(writer, Consistency is null ? (byte)0 : (byte)1);
        if (Consistency is { } consistency)
        {
            PeerPayloadWriter.WriteString(writer, consistency.Name, MaxConsistencyNameBytes, nameof(Consistency));
            PeerPayloadWriter.WriteInt32(writer, consistency.ReadQuorum);
            PeerPayloadWriter.WriteInt32(writer, consistency.WriteQuorum);
            PeerPayloadWriter.WriteByte(writer, consistency.RequireAgreement ? (byte)1 : (byte)0);
        }
    }

    public override string ToString() =>
        $"{nameof(ForwardCommand)} {{ {nameof(ProtocolVersion)} = {ProtocolVersion}, {nameof(Arguments)} = [{string.Join(", ", Arguments.Select(static a => Convert.ToHexString(a)))}], {nameof(Consistency)} = {Consistency?.Name ?? "default"} }}";

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

        byte hasConsistency = reader.ReadByte("consistency flag");
        if (hasConsistency > 1)
        {
            throw new PeerProtocolException($"{MessageType} payload: consistency flag {hasConsistency} is not 0 or 1");
        }

        ConsistencyLevel? consistency = hasConsistency == 1 ? ReadConsistency(ref reader) : null;
        reader.EnsureEnd();
        return new ForwardCommand(protocol, arguments, consistency);
    }

    private static ConsistencyLevel ReadConsistency(ref PeerPayloadReader reader)
    {
        string name = reader.ReadString("consistency name", MaxConsistencyNameBytes);
        int read = reader.ReadInt32("read quorum");
        int write = reader.ReadInt32("write quorum");
        byte agreement = reader.ReadByte("agreement");
        if (name.Length == 0 || read is < -1 or > MaxQuorum || write is < -1 or > MaxQuorum || agreement > 1)
        {
            throw new PeerProtocolException($"{MessageType} payload: consistency name '{name}', R={read}, W={write}, agreement {agreement} is not a consistency level");
        }

        return new ConsistencyLevel(name, read, write, agreement == 1);
    }
}
