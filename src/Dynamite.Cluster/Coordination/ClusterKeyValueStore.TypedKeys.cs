using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Quorum;
using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// Typed keys on a cluster node. Reads (docs/DATA-TYPES.md, "replica read"): the elements an
/// <see cref="IElementReadOperation"/> names, a range of them, or all of them, read by quorum from the key's primaries in
/// bounded pages (<see cref="ElementSelection.MaxElements"/>), then the operation runs over the join. A read of every
/// element (HGETALL, SCARD) walks the key page by page, each page its own quorum read: like SCAN, it sees every element
/// present for the whole walk, and an element added or removed during it may or may not be seen. A string read or a key
/// command that meets a typed key (GET or TYPE of a hash, DEL or EXPIRE of a set) reads its joined header instead
/// (<see cref="ReadTypedKeyAsync"/>), and what a key command changes there becomes a delta (<see cref="TypedKeyChange"/>), or a
/// string write that replaces it.
/// </summary>
public sealed partial class ClusterKeyValueStore
{
    /// <summary>A step forwarded to a primary is answered in RESP2; only an error in its reply matters.</summary>
    private const int ForwardedProtocolVersion = 2;

    /// <summary>Runs a command over several keys one single-key step after another (<see cref="IStepwiseOperation"/>).</summary>
    private async ValueTask RunStepsAsync(IStepwiseOperation operation, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        int steps = 0;
        for (IStorageOperation? step = operation.NextStep(); step is not null; step = operation.NextStep())
        {
            if (++steps > operation.StepLimit || step is IStepwiseOperation)
            {
                throw new InvalidOperationException($"{operation.GetType().Name} takes more than {operation.StepLimit} steps, or nests them.");
            }

            // A client's single-key command reached a primary before it ran (the front end forwards it); a step of a
            // command over several keys is forwarded here, one key at a time.
            await (step is IKeyDeltaOperation change ? ApplyOrForwardDeltaAsync(change, consistency, cancellationToken) : ExecuteAsync(step, consistency, cancellationToken));
        }
    }

    private async ValueTask ReadElementsThenRunAsync(IElementReadOperation operation, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        if (operation.IndexWindow is { } window)
        {
            // A window of the score order: the primaries' windows joined when they name the same members; otherwise the
            // members any of them names, read by name and joined.
            (TypedReadJoin? joined, IReadOnlyCollection<byte[]> members) = await coordinator.ReadIndexWindowAsync(operation.Key, window, consistency, Transaction, cancellationToken);
            operation.Execute(joined is not null
                ? new JoinedKeyView(operation.Key, joined.Header, joined.Plain, joined.Elements, false, NowUnixMs)
                : await ReadJoinedAsync(operation.Key, [.. members], null, 0, consistency, cancellationToken));
            return;
        }

        operation.Execute(await ReadJoinedAsync(operation.Key, operation.Names, operation.After, operation.Limit, consistency, cancellationToken));
    }

    /// <summary>Reads every element of each key of <paramref name="operation"/> (one key after the other), then runs it over their joins.</summary>
    private async ValueTask ReadKeysThenRunAsync(IMultiKeyElementReadOperation operation, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        var views = new Dictionary<byte[], JoinedKeyView>(ByteArrayComparer.Instance);
        foreach (byte[] key in operation.Keys)
        {
            if (!views.ContainsKey(key))
            {
                views[key] = await ReadJoinedAsync(key, null, null, 0, consistency, cancellationToken);
            }
        }

        operation.Execute(new JoinedKeysView(views, NowUnixMs));
    }

    /// <summary>The join of a quorum read of <paramref name="key"/>'s named elements, or a range of them (limit 0: all).</summary>
    private async ValueTask<JoinedKeyView> ReadJoinedAsync(byte[] key, IReadOnlyList<byte[]>? names, byte[]? after, int limit, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        KeyHeader? header = null;
        VersionedObject? plain = null;
        var elements = new List<KeyValuePair<byte[], ElementState>>();
        bool first = true;
        bool more = false;
        if (names is not null)
        {
            for (int start = 0; first || start < names.Count; start += ElementSelection.MaxElements)
            {
                ElementSelection chunk = ElementSelection.Named(names.Skip(start).Take(ElementSelection.MaxElements));
                TypedReadJoin join = await coordinator.ReadElementsAsync(key, chunk, consistency, Transaction, cancellationToken);
                if (!Take(join, ref header, ref plain, ref first))
                {
                    break;
                }

                elements.AddRange(join.Elements);
            }
        }
        else
        {
            do
            {
                int pageLimit = limit == 0 ? ElementSelection.MaxElements : Math.Min(limit - elements.Count, ElementSelection.MaxElements);
                TypedReadJoin join = await coordinator.ReadElementsAsync(key, ElementSelection.Page(after, pageLimit), consistency, Transaction, cancellationToken);
                if (!Take(join, ref header, ref plain, ref first))
                {
                    break;
                }

                elements.AddRange(join.Elements);
                after = join.ResumeAfter;
                more = after is not null;
            }
            // A page of the join may hold fewer elements than asked (it ends where the shortest replica page ended, and
            // removed names are left out): a range read goes on until it has some or the key ends.
            while (more && (limit == 0 || elements.Count == 0));
        }

        return new JoinedKeyView(key, header, plain, elements, more, NowUnixMs);
    }

    /// <summary>
    /// Takes one page's header or string into the read's; false when this page found the key gone or changed into a
    /// string (a later page of a walk), which ends the walk with what it has.
    /// </summary>
    private static bool Take(TypedReadJoin join, ref KeyHeader? header, ref VersionedObject? plain, ref bool first)
    {
        if (first)
        {
            first = false;
            header = join.Header;
            plain = join.Plain;
            return header is not null;
        }

        if (header is null || join.Header is null || join.Header.Type != header.Type)
        {
            return false;
        }

        header = KeyHeader.Join(header, join.Header);
        return true;
    }

    /// <summary>
    /// A key as a string read or a key command sees it when a replica holds a typed key there: the joined header (not
    /// found once no element is left, or expired), or the string that wins over the typed key by the join's rule.
    /// </summary>
    private async ValueTask<ReadResult> ReadTypedKeyAsync(byte[] key, ConsistencyLevel? consistency, CancellationToken cancellationToken) =>
        (await ProbeTypedKeyAsync(key, consistency, cancellationToken)).Result;

    /// <summary>As <see cref="ReadTypedKeyAsync"/>, with the typed key's type (null: none found).</summary>
    private async ValueTask<(ReadResult Result, DataType? Type)> ProbeTypedKeyAsync(byte[] key, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        var probe = new TypedKeyProbe(key);
        await ReadElementsThenRunAsync(probe, consistency, cancellationToken);
        return (probe.Result, probe.Type);
    }

    /// <summary>
    /// What a key command staged for a typed key, as a delta: a delete is the observed remove of the whole key and a
    /// hash's or set's header written anew a change of its expiry. A string staged over a typed string (a counter: SET,
    /// APPEND, INCRBYFLOAT, EXPIRE of one) is a register write that supersedes the counter writes it saw (concurrent
    /// increments stay, as Redis Active-Active keeps them), or only an expiry change when the value is the same. A string
    /// staged over a hash or set (SET over a hash) is a string write that replaces it (the replicas take a string written
    /// after a typed key's creation).
    /// </summary>
    private ValueTask ChangeTypedKeyAsync(byte[] key, ReadResult read, DataType type, StoredRecord? change, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        if (change is { IsTypedHeader: false } && type != DataType.String)
        {
            return new ValueTask(PutStagedAsync(key, null, change, null, NowUnixMs, consistency, cancellationToken).AsTask());
        }

        if (!read.Found)
        {
            // The key read as absent (an emptied or expired typed key): deleting it changes nothing.
            return ValueTask.CompletedTask;
        }

        TypedKeyChange command = change switch
        {
            null => TypedKeyChange.Remove(key, type),
            { } staged when staged.IsExpiredAt(NowUnixMs) => TypedKeyChange.Remove(key, type),
            { IsTypedHeader: true } header => TypedKeyChange.Expire(key, type, header.ExpiresAtUnixMs),
            { } staged when staged.Value.AsSpan().SequenceEqual(read.Record.Value) => TypedKeyChange.Expire(key, type, staged.ExpiresAtUnixMs),
            { } staged => TypedKeyChange.AssignString(key, staged.Value, staged.ExpiresAtUnixMs),
        };
        return ApplyOrForwardDeltaAsync(command, consistency, cancellationToken);
    }

    /// <summary>
    /// A typed key's change, built on this node when it is a primary of the key; otherwise the command it stands for
    /// (<see cref="IForwardableOperation"/>) runs on a primary, as a client's single-key command would have been
    /// forwarded, at this command's consistency.
    /// </summary>
    private ValueTask ApplyOrForwardDeltaAsync(IKeyDeltaOperation command, ConsistencyLevel? consistency, CancellationToken cancellationToken) =>
        Transaction is null && command is IForwardableOperation forwardable && coordinator.ForwardsWritesOf(command.Key)
            ? ForwardAsync(forwardable, consistency, cancellationToken)
            : ApplyDeltaAsync(command, consistency, cancellationToken);

    /// <summary>A typed key's change coordinated here: staged in the transaction, or replicated at once.</summary>
    private ValueTask ApplyDeltaAsync(IKeyDeltaOperation command, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        if (Transaction is not { } staged)
        {
            return coordinator.ApplyDeltaAsync(command, consistency, cancellationToken);
        }

        ValueTask<KeyDelta?> coordinated = staged.CoordinateAsync(command, cancellationToken);
        return coordinated.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(coordinated.AsTask());
    }

    private async ValueTask ForwardAsync(IForwardableOperation operation, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        byte[] reply = await coordinator.ForwardCommandAsync(operation.Key, operation.CommandArguments(), ForwardedProtocolVersion, consistency, cancellationToken);
        if (reply.Length > 0 && reply[0] == (byte)'-')
        {
            // The primary's error line, as the client would have read it had it sent the command there.
            throw new StoreUnavailableException(System.Text.Encoding.UTF8.GetString(reply.AsSpan(1)).TrimEnd('\r', '\n'));
        }
    }
}
