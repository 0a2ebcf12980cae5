using Dynamite.Core.AntiEntropy;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Core.Tests.AntiEntropy;

/// <summary>
/// Runs a <see cref="MerkleExchange"/> against a remote tree in-process, passing every request and reply
/// through its wire encoding, as the runtime will over a peer connection.
/// </summary>
internal static class ExchangeDriver
{
    public static MerkleExchange Run(PartitionId partition, PartitionMerkleTree local, PartitionMerkleTree remote)
    {
        var exchange = new MerkleExchange(partition, local);
        var pending = new Queue<MerkleLevelRequest>(exchange.Start().Requests);
        while (pending.Count > 0)
        {
            var request = (MerkleLevelRequest)PeerMessages.Read(PeerMessageType.MerkleLevelRequest, Wire.Encode(pending.Dequeue()));
            var reply = (MerkleLevelReply)PeerMessages.Read(
                PeerMessageType.MerkleLevelReply,
                Wire.Encode(new MerkleLevelReply(remote.GetLevel(request.Level, request.FromIndex, request.Count))));
            MerkleExchangeStep step = exchange.OnRemoteNodes(request.Level, request.FromIndex, reply.Hashes.Span);
            foreach (MerkleLevelRequest next in step.Requests)
            {
                pending.Enqueue(next);
            }
        }

        return exchange;
    }
}
