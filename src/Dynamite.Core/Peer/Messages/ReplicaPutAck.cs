using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>Replica → coordinator: the outcome of a <see cref="ReplicaPut"/> or <see cref="HintedPut"/>.</summary>
public sealed record ReplicaPutAck(ReplicaPutStatus Status) : IPeerMessage<ReplicaPutAck>
{
    public static PeerMessageType MessageType => PeerMessageType.ReplicaPutAck;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => 1;

    public void Write(IBufferWriter<byte> writer) => PeerPayloadWriter.WriteByte(writer, (byte)Status);

    public static ReplicaPutAck Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        var status = (ReplicaPutStatus)reader.ReadByte("status");
        reader.EnsureEnd();
        if (!Enum.IsDefined(status))
        {
            throw new PeerProtocolException($"{MessageType} payload: unknown status {(byte)status}");
        }

        return new ReplicaPutAck(status);
    }
}
