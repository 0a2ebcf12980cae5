using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>Server → client: the server's identity and its fresh nonce, which the client's proof must cover.</summary>
public sealed record HelloChallenge(ReadOnlyMemory<byte> ServerNonce, PeerIdentity Server) : IPeerMessage<HelloChallenge>
{
    public static PeerMessageType MessageType => PeerMessageType.HelloChallenge;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => PeerHandshake.NonceBytes + PeerIdentityCodec.Size(Server);

    public void Write(IBufferWriter<byte> writer)
    {
        if (ServerNonce.Length != PeerHandshake.NonceBytes)
        {
            throw new InvalidOperationException($"ServerNonce must be {PeerHandshake.NonceBytes} bytes");
        }

        PeerPayloadWriter.WriteFixed(writer, ServerNonce.Span);
        PeerIdentityCodec.Write(writer, Server);
    }

    public static HelloChallenge Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        byte[] nonce = reader.ReadFixed("server nonce", PeerHandshake.NonceBytes);
        PeerIdentity server = PeerIdentityCodec.Read(ref reader);
        reader.EnsureEnd();
        return new HelloChallenge(nonce, server);
    }
}
