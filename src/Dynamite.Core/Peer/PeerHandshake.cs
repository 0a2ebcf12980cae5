using System.Buffers;
using System.Security.Cryptography;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Core.Peer;

/// <summary>
/// Mutual authentication of two nodes by a shared cluster secret that never crosses the wire
/// (a challenge-response in the manner of RFC 2104 HMAC authentication / SCRAM's proofs, without SCRAM's salted
/// password storage, since both sides hold the secret itself):
/// <code>
///   client                                   server
///   Hello(cluster, client id, client nonce)  ──►  cluster name checked (else Refused "cluster name mismatch")
///                                            ◄──  HelloChallenge(server nonce, server id)
///   HelloProof(proof[Client])                ──►  proof checked (else Refused "authentication failed")
///   proof[Server] checked                    ◄──  Welcome(proof[Server])
/// </code>
/// proof[role] = HMAC-SHA256(key = secret, message = label ‖ role ‖ cluster name ‖ client id ‖ server id ‖
/// client nonce ‖ server nonce), every variable-length field length-prefixed so no two field lists hash alike.
/// Both nonces are fresh per connection, so a recorded proof is useless on another connection. Pure: nonces
/// come in as arguments (the runtime draws them from a cryptographic generator).
/// </summary>
public static class PeerHandshake
{
    public const int NonceBytes = 32;

    /// <summary>The size of an HMAC-SHA256.</summary>
    public const int ProofBytes = 32;

    public const string AuthenticationFailed = "authentication failed";

    /// <summary>Domain separation: these MACs mean "peer handshake, version 1" and nothing else.</summary>
    private static ReadOnlySpan<byte> Label => "dynamite-peer-handshake-v1"u8;

    public static string ClusterNameMismatch(string expected, string got) =>
        $"cluster name mismatch: expected {expected}, got {got}";

    /// <summary>The server's first check: null when the Hello may proceed to the challenge, else the refusal reason.</summary>
    public static string? CheckHello(Hello hello, string clusterName)
    {
        if (hello.ProtocolVersion != PeerFrameCodec.ProtocolVersion)
        {
            return $"peer protocol version {hello.ProtocolVersion} is not supported (this node speaks version {PeerFrameCodec.ProtocolVersion})";
        }

        if (!string.Equals(hello.ClusterName, clusterName, StringComparison.Ordinal))
        {
            return ClusterNameMismatch(clusterName, hello.ClusterName);
        }

        return null;
    }

    public static byte[] ComputeProof(
        PeerHandshakeRole role,
        ReadOnlySpan<byte> secret,
        string clusterName,
        string clientNodeId,
        string serverNodeId,
        ReadOnlySpan<byte> clientNonce,
        ReadOnlySpan<byte> serverNonce)
    {
        if (clientNonce.Length != NonceBytes || serverNonce.Length != NonceBytes)
        {
            throw new ArgumentException($"handshake nonces are {NonceBytes} bytes");
        }

        var message = new ArrayBufferWriter<byte>(256);
        PeerPayloadWriter.WriteFixed(message, Label);
        PeerPayloadWriter.WriteByte(message, (byte)role);
        PeerPayloadWriter.WriteString(message, clusterName, PeerLimits.MaxNameBytes, nameof(clusterName));
        PeerPayloadWriter.WriteString(message, clientNodeId, PeerLimits.MaxNameBytes, nameof(clientNodeId));
        PeerPayloadWriter.WriteString(message, serverNodeId, PeerLimits.MaxNameBytes, nameof(serverNodeId));
        PeerPayloadWriter.WriteFixed(message, clientNonce);
        PeerPayloadWriter.WriteFixed(message, serverNonce);
        return HMACSHA256.HashData(secret, message.WrittenSpan);
    }

    /// <summary>Checks a received proof in constant time (no timing oracle on how many bytes matched).</summary>
    public static bool VerifyProof(
        PeerHandshakeRole role,
        ReadOnlySpan<byte> secret,
        string clusterName,
        string clientNodeId,
        string serverNodeId,
        ReadOnlySpan<byte> clientNonce,
        ReadOnlySpan<byte> serverNonce,
        ReadOnlySpan<byte> proof)
    {
        byte[] expected = ComputeProof(role, secret, clusterName, clientNodeId, serverNodeId, clientNonce, serverNonce);
        return proof.Length == expected.Length && CryptographicOperations.FixedTimeEquals(expected, proof);
    }
}
