using Dynamite.Cluster.Transport;
using Dynamite.Core.Coordination;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// The typed keys' write path (docs/DATA-TYPES.md, "Deltas"): a replica runs the command on its own state, which
/// makes its new dots unique, and sends the change it made, a <see cref="KeyDelta"/>, to the other replicas; W acks
/// answer the client, and an undelivered delta becomes a hint, joined with any other kept for the same key and node.
/// </summary>
public sealed partial class ClusterCoordinator
{
    /// <summary>
    /// Runs <paramref name="command"/> with this node as its coordinator, a primary of its key: completes when W
    /// replicas hold its change. Throws <see cref="StoreUnavailableException"/> when W was not reached (the change
    /// may still be on some replicas and will be on all once hints and anti-entropy deliver it), or when this node
    /// is not a primary of the key: a typed command's delta is built from a primary's state, so it runs on one.
    /// </summary>
    public async ValueTask ApplyDeltaAsync(IKeyDeltaOperation command, ConsistencyLevel? consistency, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        byte[] key = command.Key;
        PreferenceList list = _lists.Of(key, out int n, out NodeId[] gainers);
        (_, int w) = (consistency ?? ConsistencyLevel.Default).Resolve(n, _options.ReadQuorum, _options.WriteQuorum);
        if (!list.Primaries.Contains(_options.Self.Id))
        {
            // Not a fallback either: a dot must never be issued twice, and a fallback may have released (handed off and
            // deleted) the key's state since it last coordinated it, so its next dot could repeat one. A primary keeps
            // the key's context for as long as it is a primary.
            throw new StoreUnavailableException(
                $"{NotAReplicaPrefix} {_options.Self.Id} is not a primary of partition {list.Partition}; hash, set and counter commands run on a primary of their key (connect to one of {string.Join(", ", list.Primaries)})");
        }

        var request = new PutRequest(list, _options.Self.Id, w);
        int remote = request.ReplicaWrites.Count + gainers.Length;
        await AcquireReplicaWriteSlotsAsync(remote, cancellationToken);
        KeyDelta? delta;
        try
        {
            delta = await _local.TypedKeys.CoordinateAsync(command, CurrentActor, cancellationToken);
        }
        catch
        {
            ReleaseSlots(remote);
            throw;
        }

        if (delta is null)
        {
            // Nothing changed (WRONGTYPE, a field already set): nothing to replicate.
            ReleaseSlots(remote);
            return;
        }

        var write = new PendingWrite(request, key, Core.Versioning.VersionedObject.Empty) { Delta = delta };
        lock (request)
        {
            request.OnLocalWrite();
        }

        if (request.Outcome != PutOutcome.Pending)
        {
            write.TrySetResult();
        }

        byte[] encoded = delta.Encode();
        ReplicaDelta? message = null;
        IReadOnlyList<PreferenceListEntry> replicaWrites = request.ReplicaWrites;
        for (int i = 0; i < replicaWrites.Count; i++)
        {
            PreferenceListEntry entry = replicaWrites[i];
            IPeerPayload payload = entry.IsPrimary || entry.HintFor is null
                ? message ??= new ReplicaDelta(key, encoded)
                : new HintedDelta(entry.HintFor.Value.Value, key, encoded);
            SendReplicaWrite(entry.Node, payload, new ReplicaWriteCallback(this, write, entry.Node, countsTowardsW: true));
        }

        foreach (NodeId gainer in gainers)
        {
            SendReplicaWrite(gainer, message ??= new ReplicaDelta(key, encoded), new ReplicaWriteCallback(this, write, gainer, countsTowardsW: false));
        }

        if (request.LocalHintFor is { } standingInFor)
        {
            await StoreHintAsync(standingInFor, write, "this node coordinated the change as its fallback");
        }

        IReadOnlyList<NodeId> coordinatorHints = request.HintsAtCoordinator;
        for (int i = 0; i < coordinatorHints.Count; i++)
        {
            await StoreHintAsync(coordinatorHints[i], write, "its primary is unreachable and no fallback is free");
        }

        await write.Answer;
        lock (request)
        {
            if (request.Outcome != PutOutcome.Ok)
            {
                throw new StoreUnavailableException(
                    $"NOQUORUM write quorum not reached: {request.Acknowledgements} of {w} acknowledgements (W={w}, N={n}{Unreachable(list)}); the change may be applied on some replicas");
            }
        }
    }

    /// <summary>
    /// True when a write of <paramref name="key"/> is better run on another node: this node is not a primary of the key
    /// (a typed change is built from a primary's state) and some primary is reachable. With every primary unreachable
    /// it stays here, where a string write still reaches fallbacks (sloppy quorum, hints).
    /// </summary>
    public bool ForwardsWritesOf(ReadOnlySpan<byte> key)
    {
        PreferenceList list;
        try
        {
            list = _lists.Of(key, out _);
        }
        catch (StoreUnavailableException)
        {
            // No ring yet (a node still joining): the command runs here and answers why it cannot.
            return false;
        }

        if (list.Primaries.Contains(_options.Self.Id))
        {
            return false;
        }

        foreach (NodeId primary in list.Primaries)
        {
            if (_topology.IsReachable(primary))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Runs a client command on a primary of <paramref name="key"/> (the first reachable one in preference order) and
    /// returns its RESP reply. The primary waits for its own quorum, so a try may take two request timeouts. The command
    /// goes to the next primary only when it certainly was not sent (no connection, or the peer refused it): once sent, an
    /// unanswered command may still run there, and running it on another primary too would apply an INCR or an LPUSH
    /// twice, so the error then says it may have been applied.
    /// </summary>
    public ValueTask<byte[]> ForwardCommandAsync(byte[] key, IReadOnlyList<byte[]> arguments, int protocolVersion, ConsistencyLevel? consistency, CancellationToken cancellationToken) =>
        ForwardToPrimaryAsync(key, new ForwardCommand((byte)protocolVersion, arguments, consistency), _options.RequestTimeout * 2, "command", cancellationToken);

    /// <summary>
    /// Runs a transaction (a forwarded <c>DYN.EXEC</c>) on a primary of <paramref name="key"/>, as
    /// <see cref="ForwardCommandAsync"/> runs a command, with a longer wait: the transaction waits there for the node's
    /// isolation gate, then runs its commands and its quorum commit.
    /// </summary>
    public ValueTask<byte[]> ForwardTransactionAsync(byte[] key, IReadOnlyList<byte[]> arguments, int protocolVersion, ConsistencyLevel? consistency, CancellationToken cancellationToken) =>
        ForwardToPrimaryAsync(key, new ForwardCommand((byte)protocolVersion, arguments, consistency), _options.RequestTimeout * 4, "transaction", cancellationToken);

    private async ValueTask<byte[]> ForwardToPrimaryAsync(byte[] key, ForwardCommand request, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        PreferenceList list = _lists.Of(key, out _);
        string lastFailure = "no primary is reachable";
        foreach (NodeId primary in list.Primaries)
        {
            if (primary == _options.Self.Id || !_topology.IsReachable(primary) || _topology.ClientFor(primary) is not { } client)
            {
                continue;
            }

            try
            {
                PeerResponse response = await client.SendAsync(request, timeout, cancellationToken);
                return response.Read<ForwardCommandReply>().Reply.ToArray();
            }
            catch (Exception exception) when (exception is PeerUnavailableException { NotSent: true } or PeerRefusedException)
            {
                lastFailure = $"{primary}: {exception.Message}";
            }
            catch (Exception exception) when (exception is PeerUnavailableException or TimeoutException or PeerRemoteException or PeerProtocolException)
            {
                throw new StoreUnavailableException(
                    $"NOQUORUM the primary {primary} of partition {list.Partition} did not answer the {what} ({exception.Message}); it may have been applied") { MayBeApplied = true };
            }
        }

        throw new StoreUnavailableException($"NOQUORUM no primary of partition {list.Partition} could run the {what} ({lastFailure}); it was not applied");
    }

    private void ReleaseSlots(int count)
    {
        if (count > 0)
        {
            _replicaWriteSlots.Release(count);
        }
    }
}
