using System.Security.Authentication;
using Dynamite.Core.Peer;

namespace Dynamite.Cluster.Transport;

/// <summary>Settings of the peer transport, shared by the listener and every client of one node.</summary>
public sealed record PeerTransportOptions
{
    /// <summary>Nodes presenting another cluster name are refused, so two clusters on one network never mix.</summary>
    public required string ClusterName { get; init; }

    /// <summary>Shared by every node of the cluster; proven with HMAC, never sent (see <see cref="PeerHandshake"/>).</summary>
    public required string ClusterSecret { get; init; }

    /// <summary>
    /// Null: peers connect over plain TCP and prove the cluster secret. Set: every peer connection is mutual TLS with
    /// node certificates of the cluster's CA (<see cref="PeerTls"/>), and the secret's handshake runs inside it.
    /// </summary>
    public IPeerCertificates? Certificates { get; init; }

    /// <summary>TLS versions of peer connections with <see cref="Certificates"/>; None: the system's choice.</summary>
    public SslProtocols TlsProtocols { get; init; } = SslProtocols.None;

    /// <summary>This node: sent in the handshake, and what the remote side's handler sees as the request's origin.</summary>
    public required PeerIdentity LocalIdentity { get; init; }

    /// <summary>The "host:port" other nodes use to reach this node's listener (may differ from the bind address behind NAT).</summary>
    public required string AdvertisedAddress { get; init; }

    /// <summary>TCP connect. Loopback or LAN connects take well under a millisecond; 2 s leaves room for one lost SYN (1 s retransmit).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Hello to Welcome, on both sides. Two round trips and two HMACs: milliseconds. The server also uses it to drop
    /// connections that open and never speak, so it stays short.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A request whose caller names no timeout. A replica read or write is a storage call (sub-millisecond in memory,
    /// a group commit on sqlite); 5 s only bounds a stuck peer, the coordinators pass their own, shorter, timeouts.
    /// </summary>
    public TimeSpan DefaultRequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest accepted frame after the handshake: a 32 MiB value with siblings, plus headroom (<see cref="PeerFrameCodec.DefaultMaxFrameBytes"/>).</summary>
    public int MaxFrameBytes { get; init; } = PeerFrameCodec.DefaultMaxFrameBytes;

    /// <summary>
    /// The most requests a listener hands its handler as one run (<see cref="IPeerRequestHandler.HandleRunAsync"/>):
    /// bounds what one storage operation of a replica holds.
    /// </summary>
    public const int MaxRequestRunLength = 256;

    /// <summary>
    /// Requests in flight on one connection, in each direction: a client waits for a free slot (back-pressure within
    /// the caller's timeout) and a listener stops reading the connection. 1024 covers a coordinator fanning out
    /// pipelined client load (PERFORMANCE.md: 16 deep x 50 connections) without unbounded memory.
    /// </summary>
    public int MaxInFlightPerConnection { get; init; } = 1024;

    /// <summary>First reconnect delay after a failed connect; doubles per failure up to <see cref="ReconnectBackoffMax"/>, resets on success.</summary>
    public TimeSpan ReconnectBackoffInitial { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Cap on the reconnect delay: a returning node is found again within 5 s.</summary>
    public TimeSpan ReconnectBackoffMax { get; init; } = TimeSpan.FromSeconds(5);

    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(ClusterName);
        ArgumentException.ThrowIfNullOrEmpty(ClusterSecret);
        ArgumentException.ThrowIfNullOrEmpty(LocalIdentity?.NodeId, "LocalIdentity.NodeId");
        ArgumentException.ThrowIfNullOrEmpty(AdvertisedAddress);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HandshakeTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(DefaultRequestTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFrameBytes, PeerFrameCodec.BodyHeaderBytes + 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInFlightPerConnection, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ReconnectBackoffInitial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(ReconnectBackoffMax, ReconnectBackoffInitial);
    }
}
