using Dynamite.Core.Peer;

namespace Dynamite.Cluster.Transport;

/// <summary>Where a handler sends its reply: the connection the request came on. Thread-safe; replies may come in any order.</summary>
public interface IPeerReplySink
{
    /// <summary>
    /// Queues the reply to <paramref name="requestId"/> (exactly one per request). Returns false when the connection
    /// is already closed: the requester sees the connection drop instead. Throws ArgumentException when the
    /// payload exceeds a wire limit.
    /// </summary>
    bool Reply<TPayload>(ulong requestId, TPayload payload)
        where TPayload : IPeerPayload;
}
