using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.Coordination;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;
using Dynamite.Core.Versioning;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Coordination;

/// <summary>The read path: quorum reads, their replica requests, stand-bys and speculative reads.</summary>
public sealed partial class ClusterCoordinator
{
    /// <summary>
    /// A quorum read: the merge of the R (or more) replies. <see cref="VersionedObject.Empty"/> when no
    /// replica has the key. Throws <see cref="StoreUnavailableException"/> when R replicas did not answer,
    /// or, with a level that requires agreement, their replies differed. <paramref name="cancellationToken"/> is
    /// checked before anything is sent; once sent, the read ends within the request timeout either way.
    /// </summary>
    public ValueTask<VersionedObject> GetAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency, CancellationToken cancellationToken = default) =>
        GetAsync(key, consistency, transaction: null, cancellationToken);

    /// <summary>
    /// As the overload without <paramref name="transaction"/>, inside a transaction this node
    /// coordinates: this replica's copy is the transaction's view of it (its staged writes), and no read repair is made
    /// (it would carry them to other replicas before the commit).
    /// </summary>
    public ValueTask<VersionedObject> GetAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency, ReplicaTransaction? transaction, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<VersionedObject>(cancellationToken);
        }

        try
        {
            PendingRead? read = StartRead(key, consistency, out VersionedObject immediate, readTyped: null, transaction, cancellationToken);
            return read is null ? new(immediate) : read.Answer;
        }
        catch (Exception exception)
        {
            return ValueTask.FromException<VersionedObject>(exception);
        }
    }

    /// <summary>
    /// A quorum read as <see cref="GetAsync(ReadOnlyMemory{byte}, ConsistencyLevel?, ReplicaTransaction?, CancellationToken)"/>, answered with <paramref name="resolve"/> applied to the merge when the
    /// client takes the answer (a front end's resolution of siblings): one awaitable, no state machine of its own.
    /// When a replica holds a typed key there (a hash, a set), the answer is <paramref name="readTyped"/>'s instead (a
    /// typed read, which applies the rule between a string and a typed key); without it, a <see cref="TypedKeyException"/>.
    /// </summary>
    public ValueTask<ReadResult> ReadAsync(
        ReadOnlyMemory<byte> key,
        ConsistencyLevel? consistency,
        Func<VersionedObject, ReadResult> resolve,
        Func<byte[], ConsistencyLevel?, CancellationToken, ValueTask<ReadResult>>? readTyped = null,
        ReplicaTransaction? transaction = null,
        CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ReadResult>(cancellationToken);
        }

        try
        {
            PendingRead? read = StartRead(key, consistency, out VersionedObject immediate, readTyped, transaction, cancellationToken);
            return read is null ? new(resolve(immediate)) : read.ResolvedAnswer(resolve);
        }
        catch (TypedKeyException) when (readTyped is not null)
        {
            // This node's own replica holds a typed key there.
            return readTyped(key.ToArray(), consistency, cancellationToken);
        }
        catch (Exception exception)
        {
            return ValueTask.FromException<ReadResult>(exception);
        }
    }

    /// <summary>Sends the read and returns it in flight, or null with the answer in <paramref name="immediate"/> when
    /// this node's own copy is the answer. Not an async method, so a read costs no state machine.</summary>
    private PendingRead? StartRead(
        ReadOnlyMemory<byte> key,
        ConsistencyLevel? consistency,
        out VersionedObject immediate,
        Func<byte[], ConsistencyLevel?, CancellationToken, ValueTask<ReadResult>>? readTyped,
        ReplicaTransaction? transaction,
        CancellationToken cancellationToken)
    {
        immediate = VersionedObject.Empty;
        PreferenceList list = _lists.Of(key.Span, out int n);
        ConsistencyLevel level = consistency ?? ConsistencyLevel.Default;
        (int r, _) = level.Resolve(n, _options.ReadQuorum, _options.WriteQuorum);
        if (r == 1 && !level.RequireAgreement && _topology.ServesLocalReads && list.Contains(_options.Self.Id))
        {
            // R = 1 and this node holds a replica: its own copy is the answer. Asking the others would only feed
            // read repair, which at R = 1 the client has traded for speed; anti-entropy still converges them.
            immediate = (transaction is null ? _local.Read(key.Span) : transaction.Read(key.Span, out _)) ?? VersionedObject.Empty;
            return null;
        }

        var request = new GetRequest(list, n, r, level.RequireAgreement, _options.ReadRepair && transaction is null, _options.ReadFanout, _options.Self.Id);

        // Keys outlive the client's request buffer here (late replies and repairs run after the answer).
        byte[] ownedKey = key.ToArray();

        // This node's copy is read first: its digest lets every replica that holds the same version answer
        // "unchanged" instead of sending the value back. A warming node's copy is incomplete: it counts as a
        // replica that could not answer.
        bool selfIsReplica = list.Contains(_options.Self.Id);
        VersionedObject? local = null;
        ulong localDigest = 0;
        if (selfIsReplica && _topology.ServesLocalReads)
        {
            local = transaction is null ? _local.Read(ownedKey, out localDigest) : transaction.Read(ownedKey, out localDigest);
        }

        // The typed fallback is set before anything is sent: a reply may answer the read on another thread at once.
        var read = new PendingRead(request, ownedKey, list.Partition, local, localDigest, level, list)
        {
            TypedFallback = readTyped is null ? null : (readTyped, consistency, cancellationToken),
        };
        if (request.Phase != GetPhase.AwaitingQuorum)
        {
            read.TryAnswer();
        }

        foreach (PreferenceListEntry entry in request.Targets)
        {
            if (entry.Node != _options.Self.Id)
            {
                ReadFromReplica(read, entry.Node);
            }
        }

        if (selfIsReplica)
        {
            OnReplicaRead(read, _options.Self.Id, _topology.ServesLocalReads, local);
        }

        // No cancellation here: every replica read ends within the request timeout.
        return read;
    }

    private void ReadFromReplica(PendingRead read, NodeId node)
    {
        var callback = new ReplicaReadCallback(this, read, node);
        if (_topology.ClientFor(node) is { } client)
        {
            client.Send(read.Message, _options.RequestTimeout, callback, _options.SpeculativeReadDelay);
        }
        else
        {
            callback.OnFailure(new PeerUnavailableException($"no connection to {node}"));
        }
    }

    /// <summary>
    /// A replica's reply (null: it has no copy) or failure, fed to the read's state machine. The client's
    /// continuation runs inline when the answer is set, so that happens outside the lock, as does asking a stand-by
    /// (whose failure may be reported on this very stack).
    /// </summary>
    internal void OnReplicaRead(PendingRead read, NodeId node, bool replied, VersionedObject? reply)
    {
        (bool Answer, NodeId? Ask) outcome;
        lock (read.Request)
        {
            outcome = Handle(read, replied ? read.Request.OnReply(node, reply) : read.Request.OnFailure(node));
        }

        Act(read, outcome);
    }

    /// <summary>A replica asked has not answered within <see cref="ClusterOptions.SpeculativeReadDelay"/>: ask a stand-by too, if there is one.</summary>
    internal void OnReplicaSlow(PendingRead read, NodeId node)
    {
        (bool Answer, NodeId? Ask) outcome;
        lock (read.Request)
        {
            outcome = Handle(read, read.Request.OnSlow(node));
        }

        if (outcome.Ask is { } next)
        {
            _metrics?.SpeculativeReadsCounter.Add(1);
            _logger.LogDebug("Replica {Node} is slow to answer a read; asking {Next} too", node, next);
        }

        Act(read, outcome);
    }

    /// <summary>The part of <see cref="Handle"/>'s outcome done outside the request's lock: ask the next replica, answer the client.</summary>
    private void Act(PendingRead read, (bool Answer, NodeId? Ask) outcome)
    {
        if (outcome.Ask is { } next)
        {
            ReadFromReplica(read, next);
        }

        if (outcome.Answer)
        {
            read.TryAnswer();
        }
    }

    /// <summary>
    /// Does what the read's state machine asked for that can be done under the request's lock (repairs, this node's
    /// own reply); returns whether to answer the client and which replica to ask next.
    /// </summary>
    private (bool Answer, NodeId? Ask) Handle(PendingRead read, GetStep step)
    {
        bool answer = (step & GetStep.Answer) != 0;
        NodeId? ask = null;
        if ((step & GetStep.Ask) != 0 && read.Request.NextTarget is { } next)
        {
            // In place of a replica that failed. This node (a fallback held in reserve) answers from the copy read first.
            if (next.Node == _options.Self.Id)
            {
                (bool answerNow, ask) = Handle(read, _topology.ServesLocalReads ? read.Request.OnReply(next.Node, read.Local) : read.Request.OnFailure(next.Node));
                answer |= answerNow;
            }
            else
            {
                ask = next.Node;
            }
        }

        if ((step & GetStep.Repair) != 0)
        {
            _ = _repairer.RepairAsync(read.Key, read.Request.Merged, [.. read.Request.RepairTargets]);
        }

        return (answer, ask);
    }
}
