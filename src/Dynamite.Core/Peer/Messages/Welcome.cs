using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>Server → client: the client is accepted; the server proves in turn that it holds the cluster secret, so the client never talks to an impostor.</summary>
public sealed record Welcome(ReadOnlyMemory<byte> ServerProof) : IPeerMessage<Welcome>
{
    public static PeerMessageType MessageType => PeerMessageType.Welcome;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => PeerHandshake.ProofBytes;

    public void Write(IBufferWriter<byte> writer)
    {
        if (ServerProof.Length != PeerHandshake.ProofBytes)
        {
            throw new InvalidOperationException($"ServerProof must be {PeerHandshake.ProofBytes} bytes");
        }

        PeerPayloadWriter.WriteFixed(writer, ServerProof.Span);
    }

    public static Welcome Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte[] proof = reader.ReadFixed("proof", PeerHandshake.ProofBytes);
        reader.EnsureEnd();
        return new Welcome(proof);
    }
}
