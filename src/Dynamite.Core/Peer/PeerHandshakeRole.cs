namespace Dynamite.Core.Peer;

/// <summary>
/// Which side computes a handshake proof. It is part of the MAC input, so a proof from one direction is never
/// valid in the other (an impostor server cannot echo the client's own proof back as its Welcome).
/// Hashed values: append-only, pinned by a test.
/// </summary>
public enum PeerHandshakeRole : byte
{
    Client = 1,
    Server = 2,
}
