using Dynamite.Core.Membership;
using Dynamite.Core.Peer;

namespace Dynamite.Core.Gossip;

/// <summary>A message a gossip round asks the runtime to send to one peer.</summary>
public sealed record GossipSend(NodeId To, IPeerPayload Message);
