using System.Text;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Xunit;

namespace Dynamite.Cluster.Tests.Transport;

/// <summary>
/// The listener hands consecutive requests of a type its handler serves in runs (a replica's puts) over together, one
/// run per read at most <see cref="PeerTransportOptions.MaxRequestRunLength"/> long: every request still gets exactly its own
/// reply, and a run that fails is answered request by request.
/// </summary>
public sealed class PeerRequestRunTests
{
    private static readonly TimeSpan Patience = PeerTestCluster.Patience;

    [Fact]
    public async Task PutsSentTogether_ServedInRunsWithinTheLimit_EachAnsweredWithItsOwnReply()
    {
        await using var cluster = new PeerTestCluster();
        int served = 0;
        int runsSeen = 0;
        var handler = new RunHandler(
            (request, reply) =>
            {
                Interlocked.Increment(ref served);
                reply.Reply(request.RequestId, EchoKey(request));
                return ValueTask.CompletedTask;
            },
            async (requests, reply) =>
            {
                // Every fourth run finishes later, on another thread, as a storage write would.
                if (Interlocked.Increment(ref runsSeen) % 4 == 0)
                {
                    await Task.Yield();
                }

                foreach (PeerIncomingRequest request in requests)
                {
                    Interlocked.Increment(ref served);
                    reply.Reply(request.RequestId, EchoKey(request));
                }
            });
        PeerClient client = cluster.Client(cluster.StartListener(handler));
        // Connected first: a thousand sends queued behind the first connect took over 5 s on a loaded 2-core machine.
        await client.ConnectAsync();

        // Gets among the puts end one run and start the next; they are answered by HandleAsync.
        Task<PeerResponse>[] sends = [.. Enumerable.Range(0, 1000).Select(i => client.SendAsync(
            i % 97 == 0 ? new ReplicaGet(Encoding.UTF8.GetBytes($"k{i}"), default) : new ReplicaPut(Encoding.UTF8.GetBytes($"k{i}"), "v"u8.ToArray())))];
        PeerResponse[] responses = await Task.WhenAll(sends).WaitAsync(Patience);

        for (int i = 0; i < responses.Length; i++)
        {
            Assert.Equal($"k{i}", Encoding.UTF8.GetString(responses[i].Read<ReplicaGetReply>().EncodedObject.Span));
        }

        Assert.Equal(1000, Volatile.Read(ref served));
        IReadOnlyList<int> runs = handler.RunLengths;
        Assert.All(runs, length => Assert.InRange(length, 2, PeerTransportOptions.MaxRequestRunLength));

        // 990 puts sent back to back reach the listener many to a read (the sender writes whatever queued meanwhile).
        Assert.NotEmpty(runs);
    }

    [Fact]
    public async Task RunHandlerThrows_EveryRequestOfTheRunGetsAnErrorAndTheConnectionStays()
    {
        await using var cluster = new PeerTestCluster();
        var handler = new RunHandler(
            (request, reply) =>
            {
                reply.Reply(request.RequestId, new ReplicaPutAck(ReplicaPutStatus.Stored));
                return ValueTask.CompletedTask;
            },
            (requests, reply) => throw new InvalidOperationException("the run failed"));
        PeerClient client = cluster.Client(cluster.StartListener(handler));
        await client.ConnectAsync();

        Task<PeerResponse>[] sends = [.. Enumerable.Range(0, 500).Select(i => client.SendAsync(new ReplicaPut(Encoding.UTF8.GetBytes($"k{i}"), "v"u8.ToArray())))];
        PeerResponse[] responses = await Task.WhenAll(sends).WaitAsync(Patience);

        // Puts that arrived alone were served by HandleAsync; every put of a run got the error, none both.
        int failed = responses.Count(r => r.Type == PeerMessageType.Error);
        Assert.Equal(handler.RunLengths.Sum(), failed);
        Assert.All(responses.Where(r => r.Type == PeerMessageType.Error), r =>
            Assert.Equal(PeerErrorCode.Internal, Assert.Throws<PeerRemoteException>(() => r.Read<ReplicaPutAck>()).Code));
        Assert.Equal(ReplicaPutStatus.Stored, (await client.SendAsync(new ReplicaPut("after"u8.ToArray(), "v"u8.ToArray()))).Read<ReplicaPutAck>().Status);
        Assert.True(client.IsConnected);
    }

    private static ReplicaGetReply EchoKey(PeerIncomingRequest request) => new(
        ReplicaGetStatus.Found,
        request.Type == PeerMessageType.ReplicaPut ? request.Read<ReplicaPut>().Key.ToArray() : request.Read<ReplicaGet>().Key.ToArray());
}
