using System.Runtime.InteropServices;
using Dynamite.Cluster.Transport;
using Dynamite.Core.AntiEntropy;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Versioning;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Replication;

/// <summary>
/// The replica side of the peer protocol: serves ReplicaGet, ReplicaPut, HintedPut, ReplicaCount, ReplicaDelta, HintedDelta, ReplicaReadElements and ReplicaBatch from a
/// <see cref="ReplicaStore"/> and, when hinted handoff is on, a <see cref="HintStore"/>.
/// <para>
/// Every request gets exactly one reply. A malformed payload or object is answered with
/// <see cref="PeerErrorCode.MalformedPayload"/> and a failing engine (or a corrupt stored record) with
/// <see cref="PeerErrorCode.Internal"/>; neither closes the connection, which other requests share.
/// </para>
/// <para>
/// Threading: stateless apart from its stores, so any number of requests may run concurrently. The request
/// payload is only valid until the returned task completes; the message decoders copy keys and objects into
/// arrays of their own, which is what lets the engine keep the key.
/// </para>
/// </summary>
public sealed class ReplicaRequestHandler : IPeerService
{
    private readonly ReplicaStore _store;
    private readonly HintStore? _hints;
    private readonly KeyPartitioner _partitioner;
    private readonly ILogger _logger;
    private readonly Func<bool> _servesReads;

    /// <param name="store">This node's replicas.</param>
    /// <param name="hints">Where hinted puts are kept; null when hinted handoff is off.</param>
    /// <param name="partitioner">Checks that a read's key is in the partition the coordinator named.</param>
    /// <param name="logger">Damaged objects and failures.</param>
    /// <param name="servesReads">False while this node warms up: its copy is incomplete, so reads get an error reply
    /// (the coordinator counts a failed replica, never a false "not found"). Default: always serves.</param>
    public ReplicaRequestHandler(ReplicaStore store, HintStore? hints, KeyPartitioner partitioner, ILogger logger, Func<bool>? servesReads = null)
    {
        _servesReads = servesReads ?? (static () => true);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(partitioner);
        ArgumentNullException.ThrowIfNull(logger);
        _store = store;
        _hints = hints;
        _partitioner = partitioner;
        _logger = logger;
    }

    /// <summary>The acknowledgement of every stored put: immutable, so one instance answers them all.</summary>
    private static readonly ReplicaPutAck StoredAck = new(ReplicaPutStatus.Stored);

    public IReadOnlyList<PeerMessageType> Serves { get; } =
        [PeerMessageType.ReplicaGet, PeerMessageType.ReplicaPut, PeerMessageType.HintedPut, PeerMessageType.ReplicaCount, PeerMessageType.ReplicaDelta, PeerMessageType.HintedDelta, PeerMessageType.ReplicaReadElements, PeerMessageType.ReplicaBatch];

    public async ValueTask HandleAsync(PeerIncomingRequest request, IPeerReplySink reply, CancellationToken connectionClosed)
    {
        ArgumentNullException.ThrowIfNull(reply);
        IPeerPayload answer;
        try
        {
            answer = request.Type switch
            {
                PeerMessageType.ReplicaGet => Get(request.Read<ReplicaGet>()),
                PeerMessageType.ReplicaPut => await PutAsync(request.Read<ReplicaPut>(), connectionClosed),
                PeerMessageType.HintedPut => await HintedPutAsync(request.Read<HintedPut>(), connectionClosed),
                PeerMessageType.ReplicaCount => Count(request.Read<ReplicaCount>()),
                PeerMessageType.ReplicaDelta => await JoinDeltaAsync(request.Read<ReplicaDelta>(), connectionClosed),
                PeerMessageType.HintedDelta => await HintedDeltaAsync(request.Read<HintedDelta>(), connectionClosed),
                PeerMessageType.ReplicaReadElements => ReadElements(request.Read<ReplicaReadElements>()),
                PeerMessageType.ReplicaBatch => await ApplyBatchAsync(request.Read<ReplicaBatch>(), connectionClosed),
                _ => ErrorMessage.Create(PeerErrorCode.UnknownMessageType, $"this node does not serve {request.Type} requests"),
            };
        }
        catch (OperationCanceledException) when (connectionClosed.IsCancellationRequested)
        {
            // Nobody is left to answer; the transport expects no reply.
            return;
        }
        catch (Exception exception)
        {
            answer = Failure(request, exception);
        }

        Answer(request, reply, answer);
    }

    public bool ServesRuns(PeerMessageType type) => type == PeerMessageType.ReplicaPut;

    /// <summary>
    /// A run of puts that arrived together: every put is decoded first (a malformed one is answered alone and left
    /// out), then all are merged in one storage operation and acknowledged. When that operation fails (a damaged stored
    /// record, a failing engine), each put is merged again on its own, so one key's failure is never its neighbours'.
    /// </summary>
    public async ValueTask HandleRunAsync(IReadOnlyList<PeerIncomingRequest> requests, IPeerReplySink reply, CancellationToken connectionClosed)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(reply);
        var changes = new List<ReplicaChange>(requests.Count);
        var decoded = new List<PeerIncomingRequest>(requests.Count);
        foreach (PeerIncomingRequest request in requests)
        {
            try
            {
                ReplicaPut put = request.Read<ReplicaPut>();
                changes.Add(ReplicaChange.Merge(Owned(put.Key), DecodeIncoming(put.Key, put.EncodedObject), Owned(put.EncodedObject)));
                decoded.Add(request);
            }
            catch (Exception exception)
            {
                Answer(request, reply, Failure(request, exception));
            }
        }

        if (changes.Count == 0)
        {
            return;
        }

        try
        {
            await _store.ApplyBatchAsync(changes, connectionClosed);
            foreach (PeerIncomingRequest request in decoded)
            {
                reply.Reply(request.RequestId, StoredAck);
            }

            return;
        }
        catch (OperationCanceledException) when (connectionClosed.IsCancellationRequested)
        {
            return;
        }
        catch (Exception exception)
        {
            _logger.LogDebug(exception, "A run of {Count} puts from {Peer} failed together; merging each on its own", changes.Count, decoded[0].Remote);
        }

        for (int i = 0; i < changes.Count; i++)
        {
            IPeerPayload answer;
            try
            {
                ReplicaChange change = changes[i];
                await _store.MergeAsync(change.Key, change.Incoming!, change.EncodedObject, connectionClosed);
                answer = StoredAck;
            }
            catch (OperationCanceledException) when (connectionClosed.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                answer = Failure(decoded[i], exception);
            }

            Answer(decoded[i], reply, answer);
        }
    }

    /// <summary>The error reply to a request that failed: malformed input is the sender's, anything else ours (logged).</summary>
    private IPeerPayload Failure(PeerIncomingRequest request, Exception exception)
    {
        if (exception is PeerProtocolException or MalformedObjectException)
        {
            return ErrorMessage.Create(PeerErrorCode.MalformedPayload, exception.Message);
        }

        _logger.LogError(exception, "Serving {Type} from {Peer} failed", request.Type, request.Remote);
        return ErrorMessage.Create(PeerErrorCode.Internal, exception.Message);
    }

    private void Answer(PeerIncomingRequest request, IPeerReplySink reply, IPeerPayload answer)
    {
        try
        {
            reply.Reply(request.RequestId, answer);
        }
        catch (ArgumentException exception)
        {
            // Over a wire limit (an object grown past the maximum by siblings): still exactly one reply.
            _logger.LogError(exception, "The reply to {Type} from {Peer} does not fit a frame", request.Type, request.Remote);
            reply.Reply(request.RequestId, ErrorMessage.Create(PeerErrorCode.Internal, exception.Message));
        }
    }

    /// <summary>The message decoders return arrays of their own; take them over instead of copying again.</summary>
    private static byte[] Owned(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out ArraySegment<byte> segment)
            && segment.Array is not null
            && segment.Offset == 0
            && segment.Count == segment.Array.Length
            ? segment.Array
            : bytes.ToArray();

    private static VersionedObject DecodeIncoming(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> encoded)
    {
        try
        {
            return VersionedObject.Decode(encoded.Span);
        }
        catch (FormatException exception)
        {
            throw new MalformedObjectException($"the object sent for key {KeyText.Format(key.Span)} does not decode: {exception.Message}", exception);
        }
    }

    private ReplicaGetReply Get(ReplicaGet get)
    {
        PartitionId actual = _partitioner.PartitionOf(get.Key.Span);
        if (actual != get.Partition)
        {
            // The nodes disagree on Q (or the coordinator hashed another key): serving it would hide the bug.
            throw new MalformedObjectException(
                $"key {KeyText.Format(get.Key.Span)} is in partition {actual} of {_partitioner.PartitionCount} here, not {get.Partition}");
        }

        if (!_servesReads())
        {
            return new ReplicaGetReply(ReplicaGetStatus.Error, ReadOnlyMemory<byte>.Empty);
        }

        // The stored bytes are the canonical encoding: send them as they are (no decode and re-encode per read).
        byte[]? stored;
        try
        {
            stored = _store.ReadEncoded(get.Key.Span);
        }
        catch (TypedKeyException)
        {
            return new ReplicaGetReply(ReplicaGetStatus.Typed, ReadOnlyMemory<byte>.Empty);
        }

        if (stored is null)
        {
            return new ReplicaGetReply(ReplicaGetStatus.NotFound, ReadOnlyMemory<byte>.Empty);
        }

        return get.UnlessDigest != 0 && PartitionMerkleTree.VersionDigest(stored) == get.UnlessDigest
            ? new ReplicaGetReply(ReplicaGetStatus.Unchanged, ReadOnlyMemory<byte>.Empty)
            : new ReplicaGetReply(ReplicaGetStatus.Found, stored);
    }

    private async ValueTask<IPeerPayload> PutAsync(ReplicaPut put, CancellationToken cancellationToken)
    {
        VersionedObject incoming = DecodeIncoming(put.Key, put.EncodedObject);
        await _store.MergeAsync(Owned(put.Key), incoming, Owned(put.EncodedObject), cancellationToken);
        return StoredAck;
    }

    private async ValueTask<IPeerPayload> HintedPutAsync(HintedPut put, CancellationToken cancellationToken)
    {
        if (_hints is null)
        {
            return ErrorMessage.Create(PeerErrorCode.Unavailable, "hinted handoff is off on this node; it does not take hinted puts");
        }

        NodeId intended = IntendedNode(put.IntendedNodeId);
        VersionedObject incoming = DecodeIncoming(put.Key, put.EncodedObject);
        await _hints.AddAsync(intended, Owned(put.Key), incoming, cancellationToken);
        return StoredAck;
    }

    private ReplicaCountReply Count(ReplicaCount count) => new(_store.KeyCount);

    private async ValueTask<IPeerPayload> JoinDeltaAsync(ReplicaDelta message, CancellationToken cancellationToken)
    {
        KeyDelta delta = DecodeDelta(message.Key, message.EncodedDelta);
        await _store.TypedKeys.JoinAsync(Owned(message.Key), delta, cancellationToken);
        return StoredAck;
    }

    /// <summary>
    /// A transaction's changes: every entry is decoded first (a malformed one refuses the whole batch, nothing stored),
    /// then all are applied in one storage operation.
    /// </summary>
    private async ValueTask<IPeerPayload> ApplyBatchAsync(ReplicaBatch batch, CancellationToken cancellationToken)
    {
        var changes = new ReplicaChange[batch.Entries.Count];
        for (int i = 0; i < changes.Length; i++)
        {
            ReplicaBatchEntry entry = batch.Entries[i];
            changes[i] = entry.Kind == ReplicaBatchEntryKind.Delta
                ? ReplicaChange.Join(Owned(entry.Key), DecodeDelta(entry.Key, entry.Encoded))
                : ReplicaChange.Merge(Owned(entry.Key), DecodeIncoming(entry.Key, entry.Encoded), Owned(entry.Encoded));
            if (changes[i].Delta is { RemovalScope: not null })
            {
                // A page of a whole key is joined only in order with the rest of its transfer, never inside a transaction.
                throw new MalformedObjectException($"a replica batch's delta for key {KeyText.Format(entry.Key.Span)} is a page of a whole key");
            }
        }

        await _store.ApplyBatchAsync(changes, cancellationToken);
        return StoredAck;
    }

    private async ValueTask<IPeerPayload> HintedDeltaAsync(HintedDelta message, CancellationToken cancellationToken)
    {
        if (_hints is null)
        {
            return ErrorMessage.Create(PeerErrorCode.Unavailable, "hinted handoff is off on this node; it does not take hinted deltas");
        }

        NodeId intended = IntendedNode(message.IntendedNodeId);
        KeyDelta delta = DecodeDelta(message.Key, message.EncodedDelta);
        if (delta.RemovalScope is not null)
        {
            // A page of a whole key only makes sense joined in order with the rest of its transfer, never kept as a hint.
            throw new MalformedObjectException($"a hinted delta for key {KeyText.Format(message.Key.Span)} is a page of a whole key");
        }

        await _hints.AddDeltaAsync(intended, Owned(message.Key), delta, cancellationToken);
        return StoredAck;
    }

    private ReplicaReadElementsReply ReadElements(ReplicaReadElements message)
    {
        ElementSelection selection;
        try
        {
            selection = ElementSelection.Decode(message.EncodedSelection.Span);
        }
        catch (FormatException exception)
        {
            throw new MalformedObjectException($"the element selection sent for key {KeyText.Format(message.Key.Span)} does not decode: {exception.Message}", exception);
        }

        return new ReplicaReadElementsReply(_store.TypedKeys.Read(Owned(message.Key), selection).Encode());
    }

    /// <summary>The node a hinted write is kept for; a malformed id is the sender's error.</summary>
    private static NodeId IntendedNode(string id) =>
        NodeId.TryCreate(id, out NodeId intended) ? intended : throw new MalformedObjectException($"the intended node id '{id}' is not a valid node id");

    private static KeyDelta DecodeDelta(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> encoded)
    {
        try
        {
            return KeyDelta.Decode(encoded.Span);
        }
        catch (FormatException exception)
        {
            throw new MalformedObjectException($"the delta sent for key {KeyText.Format(key.Span)} does not decode: {exception.Message}", exception);
        }
    }
}
