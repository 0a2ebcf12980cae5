using Dynamite.Core.Peer;

namespace Dynamite.Core.Gossip;

/// <summary>The outcome of handling one gossip message: the new local state and the reply to send back, if any.</summary>
public sealed record GossipStep(ClusterState State, IPeerPayload? Reply);
