using Dynamite.Cluster.Replication;
using Dynamite.Cluster.Transport;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Quorum;
using Dynamite.Core.Ring;
using Microsoft.Extensions.Logging;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// The typed keys' read path (docs/DATA-TYPES.md, "replica read"): the key's record and the selected elements from R
/// primaries, joined as their states would join (<see cref="TypedReadJoin"/>), and each answering primary that lacks
/// part of the join repaired with a delta. Only primaries hold a typed key's state (a fallback keeps hints, not the
/// key), so only they are asked.
/// </summary>
public sealed partial class ClusterCoordinator
{
    /// <summary>
    /// A quorum read of <paramref name="key"/>'s selected elements. Throws <see cref="StoreUnavailableException"/> when
    /// fewer than R primaries answered. Every replica request ends within the request timeout; answers that come after
    /// the quorum are not waited for.
    /// </summary>
    public ValueTask<TypedReadJoin> ReadElementsAsync(byte[] key, ElementSelection selection, ConsistencyLevel? consistency, CancellationToken cancellationToken = default) =>
        ReadElementsAsync(key, selection, consistency, transaction: null, cancellationToken);

    /// <summary>
    /// As the overload without <paramref name="transaction"/>, inside a
    /// transaction this node coordinates: this replica's answer is the transaction's view (its staged changes), and no
    /// read repair is made (it would carry them to other replicas before the commit).
    /// </summary>
    public async ValueTask<TypedReadJoin> ReadElementsAsync(byte[] key, ElementSelection selection, ConsistencyLevel? consistency, ReplicaTransaction? transaction, CancellationToken cancellationToken = default)
    {
        List<(NodeId Node, ReplicaElements Reply)> replies = await GatherElementsAsync(key, selection, consistency, transaction, cancellationToken);
        bool wholeKey = selection.IsPage && !selection.IsIndexWindow && selection.After is null;
        TypedReadJoin joined = TypedReadJoin.Of([.. replies.Select(r => r.Reply)], wholeKey);
        if (_options.ReadRepair && transaction is null)
        {
            foreach ((NodeId node, ReplicaElements reply) in replies)
            {
                if (joined.RepairFor(reply) is { } repair)
                {
                    _ = RepairElementsAsync(node, key, repair);
                }
            }
        }

        return joined;
    }

    /// <summary>
    /// R primaries' score index windows (<see cref="ElementSelection.IndexWindow"/>): each primary's own first entries
    /// from the bound, as the members they name with their states (docs/DATA-TYPES.md, "The score index"). When every
    /// primary's window names the same members (the replicas agree), their join is the read (<c>Joined</c>), with read
    /// repair as any element read. Otherwise the replies are not joined with each other (a member one primary's window
    /// leaves out may be elsewhere in its order, not removed): <c>Members</c> are the candidates, to read by name.
    /// </summary>
    public async ValueTask<(TypedReadJoin? Joined, IReadOnlyCollection<byte[]> Members)> ReadIndexWindowAsync(byte[] key, ElementSelection window, ConsistencyLevel? consistency, ReplicaTransaction? transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(window);
        if (!window.IsIndexWindow)
        {
            throw new ArgumentException("The selection is not an index window.", nameof(window));
        }

        List<(NodeId Node, ReplicaElements Reply)> replies = await GatherElementsAsync(key, window, consistency, transaction, cancellationToken);
        var members = new HashSet<byte[]>(ByteArrayComparer.Instance);
        foreach ((_, ReplicaElements reply) in replies)
        {
            foreach (KeyValuePair<byte[], ElementState> element in reply.Elements)
            {
                members.Add(element.Key);
            }
        }

        bool agree = replies.TrueForAll(r => r.Reply.Kind == StoredKeyKind.Typed && NamesAll(r.Reply, members));
        if (!agree)
        {
            return (null, members);
        }

        // The same members everywhere: each reply holds each one's whole state, so the join is exact. Not a page of
        // names (a window's members are not a range of names): the join covers them all.
        TypedReadJoin joined = TypedReadJoin.Of([.. replies.Select(r => r.Reply with { HasMore = false })]);
        if (_options.ReadRepair && transaction is null)
        {
            foreach ((NodeId node, ReplicaElements reply) in replies)
            {
                if (joined.RepairFor(reply) is { } repair)
                {
                    _ = RepairElementsAsync(node, key, repair);
                }
            }
        }

        return (joined, members);
    }

    /// <summary>True when <paramref name="reply"/> names each of <paramref name="members"/> once, and nothing else.</summary>
    private static bool NamesAll(ReplicaElements reply, HashSet<byte[]> members)
    {
        if (reply.Elements.Count != members.Count)
        {
            return false;
        }

        var named = new HashSet<byte[]>(ByteArrayComparer.Instance);
        foreach (KeyValuePair<byte[], ElementState> element in reply.Elements)
        {
            if (!named.Add(element.Key))
            {
                return false;
            }
        }

        return named.Count == members.Count;
    }

    /// <summary>The answers of R primaries to <paramref name="selection"/>, this node's own first when it is one.</summary>
    private async ValueTask<List<(NodeId Node, ReplicaElements Reply)>> GatherElementsAsync(byte[] key, ElementSelection selection, ConsistencyLevel? consistency, ReplicaTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(selection);
        cancellationToken.ThrowIfCancellationRequested();
        PreferenceList list = _lists.Of(key, out int n);
        (int r, _) = (consistency ?? ConsistencyLevel.Default).Resolve(n, _options.ReadQuorum, _options.WriteQuorum);
        var replies = new List<(NodeId Node, ReplicaElements Reply)>(r);
        var pending = new List<Task<(NodeId Node, ReplicaElements? Reply)>>(list.Primaries.Length);
        byte[]? encoded = null;
        foreach (NodeId primary in list.Primaries)
        {
            if (primary == _options.Self.Id)
            {
                if (_topology.ServesLocalReads)
                {
                    replies.Add((primary, transaction is null ? _local.TypedKeys.Read(key, selection) : await transaction.ReadElementsAsync(key, selection, cancellationToken)));
                }
            }
            else if (_topology.IsReachable(primary))
            {
                pending.Add(ReadElementsFromAsync(primary, key, encoded ??= selection.Encode()));
            }
        }

        while (replies.Count < r && pending.Count > 0)
        {
            Task<(NodeId Node, ReplicaElements? Reply)> done = await Task.WhenAny(pending);
            pending.Remove(done);
            if (await done is (NodeId node, { } reply))
            {
                replies.Add((node, reply));
            }
        }

        if (replies.Count < r)
        {
            throw new StoreUnavailableException(
                $"NOQUORUM read quorum not reached: {replies.Count} of {r} primaries answered (R={r}, N={n}{Unreachable(list)})");
        }

        return replies;
    }

    /// <summary>
    /// Read repair of a typed key: the replica joins the change that brings it up to the read's join. Best effort: a
    /// repair that fails is left to the next read (and, once typed keys have it, anti-entropy).
    /// </summary>
    private async Task RepairElementsAsync(NodeId node, byte[] key, KeyDelta repair)
    {
        try
        {
            if (node == _options.Self.Id)
            {
                await _local.TypedKeys.JoinAsync(key, repair);
            }
            else if (_topology.ClientFor(node) is { } client)
            {
                await client.SendAsync(new ReplicaDelta(key, repair.Encode()), _options.RequestTimeout, CancellationToken.None);
            }
            else
            {
                return;
            }

            _metrics?.ReadRepairsCounter.Add(1);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            _logger.LogDebug("Read repair of {Key} on {Node} failed: {Reason}", Replication.KeyText.Format(key), node, exception.Message);
        }
    }

    /// <summary>One primary's answer, or null when it could not give one within the request timeout.</summary>
    private async Task<(NodeId Node, ReplicaElements? Reply)> ReadElementsFromAsync(NodeId node, byte[] key, byte[] selection)
    {
        if (_topology.ClientFor(node) is not { } client)
        {
            return (node, null);
        }

        try
        {
            PeerResponse response = await client.SendAsync(new ReplicaReadElements(key, selection), _options.RequestTimeout, CancellationToken.None);
            return (node, ReplicaElements.Decode(response.Read<ReplicaReadElementsReply>().EncodedElements.Span));
        }
        catch (Exception exception) when (exception is PeerUnavailableException or TimeoutException or PeerRemoteException or PeerProtocolException or FormatException)
        {
            _logger.LogDebug("Element read of {Key} from {Node} failed: {Reason}", Replication.KeyText.Format(key), node, exception.Message);
            return (node, null);
        }
    }
}
