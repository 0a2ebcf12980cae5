using System.Collections.Concurrent;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Peer;
using Xunit;

namespace Dynamite.Cluster.Tests.Transport;

/// <summary>A reply sink that keeps every reply by request id and fails the test on a second reply to one request.</summary>
internal sealed class RecordingReplySink : IPeerReplySink
{
    public ConcurrentDictionary<ulong, IPeerPayload> Answers { get; } = new();

    public bool Reply<TPayload>(ulong requestId, TPayload payload)
        where TPayload : IPeerPayload
    {
        Assert.True(Answers.TryAdd(requestId, payload), $"request {requestId} was answered twice");
        return true;
    }
}
