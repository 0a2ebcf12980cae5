using Dynamite.Core.Peer.Messages;

namespace Dynamite.Core.AntiEntropy;

/// <summary>
/// What a <see cref="MerkleExchange"/> wants next: <see cref="Requests"/> to send to the remote replica (possibly
/// none while other replies are still due) or, once <see cref="IsDone"/>, the <see cref="DifferingSegments"/>.
/// </summary>
public sealed record MerkleExchangeStep(IReadOnlyList<MerkleLevelRequest> Requests, bool IsDone, IReadOnlyList<int> DifferingSegments);
