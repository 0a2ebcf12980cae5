using Dynamite.Cluster.Replication;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Quorum;
using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// What EXEC and a script run their commands against on a cluster node (<see cref="ClusterKeyValueStore.BeginStaged"/>).
/// The first key a command names decides: when this node is a primary of its partition, the transaction is staged here
/// (<see cref="ReplicaTransaction"/>): its commands run as they would (quorum reads, this replica's coordinated writes) but
/// their writes are held back, and <see cref="CommitAsync"/> makes them one storage operation on this replica and one
/// replica message to each other replica, acknowledged at W. EXEC's keys share one slot (checked before anything runs); a
/// script that names a key of another partition commits what it staged first (<see cref="LeaveUnlessInPartitionAsync"/>).
/// Where this node is not a primary (or is still warming) the commands run as single commands do, each replicated or
/// forwarded on its own, and nothing is held back.
/// Keyspace-wide reads (<see cref="Scan"/>, the key counts) see only what is committed: the front end commits first.
/// Not thread-safe: one transaction's commands run one after another.
/// </summary>
internal sealed class StagedClusterStore(ClusterKeyValueStore store, ClusterCoordinator coordinator, TimeProvider clock, ClusterFlush? flush)
    : IStagedKeyValueStore, IVersionedKeyValueStore
{
    private ReplicaTransaction? _transaction;
    private ClusterKeyValueStore? _staged;
    private bool _unstaged;

    /// <summary>True once a part staged in another partition was committed before what is staged now.</summary>
    private bool _committedPart;

    /// <summary>The failure of a part's commit (<see cref="CommitPartAsync"/>), reported again by the final <see cref="CommitAsync"/>.</summary>
    private Exception? _partFailure;

    /// <summary>The consistency the transaction's commands ran at (the client's): its commit waits for that W.</summary>
    private ConsistencyLevel? _consistency;

    public bool IsEmpty => _transaction?.IsEmpty ?? true;

    public int StagedChangeCount => _transaction?.StagedChangeCount ?? 0;

    public long NowUnixMs => store.NowUnixMs;

    public long KeyCount => store.KeyCount;

    public long KeysWithExpiryCount => store.KeysWithExpiryCount;

    public long ChangeCount => store.ChangeCount;

    public long LiveKeyCount => store.LiveKeyCount;

    public int ReplicationFactor => store.ReplicationFactor;

    public long LocalKeyCount => store.LocalKeyCount;

    public bool ForwardsWritesOf(ReadOnlySpan<byte> key) =>
        _unstaged || (_transaction is { } transaction && coordinator.PartitionOf(key) != transaction.Partition)
            ? store.ForwardsWritesOf(key)
            : !ReferenceEquals(Bind(key), _staged) && store.ForwardsWritesOf(key);

    public ValueTask<byte[]> ForwardCommandAsync(byte[] key, IReadOnlyList<byte[]> arguments, int protocolVersion, ConsistencyLevel? consistency, CancellationToken cancellationToken = default) =>
        store.ForwardCommandAsync(key, arguments, protocolVersion, consistency, cancellationToken);

    public ValueTask<byte[]> ForwardTransactionAsync(byte[] key, IReadOnlyList<byte[]> arguments, int protocolVersion, ConsistencyLevel? consistency, CancellationToken cancellationToken = default) =>
        store.ForwardTransactionAsync(key, arguments, protocolVersion, consistency, cancellationToken);

    public ValueTask<ReadResult> ReadAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default)
    {
        _consistency ??= consistency;
        return InPartition(key.Span) ? Bind(key.Span).ReadAsync(key, consistency, cancellationToken) : ReadElsewhereAsync(key, consistency, cancellationToken);
    }

    public ValueTask ExecuteAsync(IStorageOperation operation, ConsistencyLevel? consistency = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        _consistency ??= consistency;
        if (operation.TouchedKeyCount == 0)
        {
            return (_staged ?? store).ExecuteAsync(operation, consistency, cancellationToken);
        }

        byte[] first = operation.GetTouchedKey(0);
        PartitionId partition = coordinator.PartitionOf(first);
        for (int i = 1; i < operation.TouchedKeyCount; i++)
        {
            if (coordinator.PartitionOf(operation.GetTouchedKey(i)) != partition)
            {
                // Keys of several partitions (a script whose shebang allows several slots) are no one replica set's.
                return ExecuteAcrossPartitionsAsync(operation, consistency, cancellationToken);
            }
        }

        return InPartition(first) ? Bind(first).ExecuteAsync(operation, consistency, cancellationToken) : ExecuteElsewhereAsync(operation, consistency, cancellationToken);
    }

    public async ValueTask<VersionedObject> GetVersionedAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency, CancellationToken cancellationToken = default)
    {
        _consistency ??= consistency;
        await LeaveUnlessInPartitionAsync(key);
        return await Bind(key.Span).GetVersionedAsync(key, consistency, cancellationToken);
    }

    public async ValueTask PutVersionedAsync(byte[] key, VersionVector context, byte[]? value, ConsistencyLevel? consistency, CancellationToken cancellationToken = default)
    {
        _consistency ??= consistency;
        await LeaveUnlessInPartitionAsync(key);
        await Bind(key).PutVersionedAsync(key, context, value, consistency, cancellationToken);
    }

    public VersionedObject? ReadLocal(ReadOnlySpan<byte> key) => store.ReadLocal(key);

    public ScanPage Scan(ulong fromHash, int limit) => store.Scan(fromHash, limit);

    public async ValueTask CommitAsync(CancellationToken cancellationToken = default)
    {
        if (_transaction is { IsEmpty: false } transaction)
        {
            try
            {
                await coordinator.CommitTransactionAsync(transaction, _consistency, cancellationToken);
            }
            catch (StoreUnavailableException exception) when (_committedPart && !exception.MayBeApplied)
            {
                throw new StoreUnavailableException($"{exception.Message} (the writes to keys of another partition before them were stored)", exception) { MayBeApplied = true };
            }
        }

        if (_partFailure is { } failure)
        {
            // A part committed before a key of another partition failed, and the command that met that key answered its
            // error; the end says it too, so a script that caught that error is not reported as stored whole.
            _partFailure = null;
            throw new StoreUnavailableException(
                $"{failure.Message} (the writes staged before a key of another partition{(_committedPart ? "; other parts were stored" : string.Empty)})",
                failure)
            {
                MayBeApplied = _committedPart || failure is StoreUnavailableException { MayBeApplied: true },
            };
        }
    }

    /// <summary>Commits the part staged so far, before a key of another partition; a failure is kept for the end to report too.</summary>
    private async ValueTask CommitPartAsync()
    {
        if (_transaction is not { IsEmpty: false })
        {
            return;
        }

        try
        {
            await coordinator.CommitTransactionAsync(_transaction, _consistency, CancellationToken.None);
            _committedPart = true;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            _partFailure ??= exception;
            throw;
        }
    }

    public ValueTask ClearAsync(CancellationToken cancellationToken = default)
    {
        _transaction?.Clear();
        return store.ClearAsync(cancellationToken);
    }

    /// <summary>Whether <paramref name="key"/> may join what is staged: nothing is yet, or it is of the same partition.</summary>
    private bool InPartition(ReadOnlySpan<byte> key) => _unstaged || _transaction is null || coordinator.PartitionOf(key) == _transaction.Partition;

    /// <summary>
    /// The store a command naming <paramref name="key"/> (of the transaction's partition, <see cref="InPartition"/>) runs
    /// against: the first key decides whether the transaction is staged here (this node is a primary of its partition)
    /// or its commands run as they would alone.
    /// </summary>
    private ClusterKeyValueStore Bind(ReadOnlySpan<byte> key)
    {
        if (_unstaged)
        {
            return store;
        }

        if (_transaction is null)
        {
            _transaction = coordinator.BeginTransaction(key);
            if (_transaction is null)
            {
                _unstaged = true;
                return store;
            }

            _staged = new ClusterKeyValueStore(coordinator, clock, flush) { Transaction = _transaction };
        }

        return _staged!;
    }

    /// <summary>
    /// A key of another partition than what is staged (a script's undeclared key, or one whose shebang allows keys of
    /// several slots; EXEC's keys share one): what is staged is committed, as before a keyspace-wide command, and the
    /// transaction goes on staged in the partition of the next key it meets. Each partition's part is one transaction
    /// on its replicas; the whole is not.
    /// </summary>
    private async ValueTask LeaveUnlessInPartitionAsync(ReadOnlyMemory<byte> key)
    {
        if (InPartition(key.Span))
        {
            return;
        }

        try
        {
            await CommitPartAsync();
        }
        finally
        {
            _transaction = null;
            _staged = null;
        }
    }

    private async ValueTask<ReadResult> ReadElsewhereAsync(ReadOnlyMemory<byte> key, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        await LeaveUnlessInPartitionAsync(key);
        return await Bind(key.Span).ReadAsync(key, consistency, cancellationToken);
    }

    /// <summary>An operation of another partition than what is staged: it runs staged in its own, after what is staged is committed.</summary>
    private async ValueTask ExecuteElsewhereAsync(IStorageOperation operation, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        await LeaveUnlessInPartitionAsync(operation.GetTouchedKey(0));
        await Bind(operation.GetTouchedKey(0)).ExecuteAsync(operation, consistency, cancellationToken);
    }

    /// <summary>An operation over keys of several partitions: it runs as it would alone, after what is staged is committed.</summary>
    private async ValueTask ExecuteAcrossPartitionsAsync(IStorageOperation operation, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        await CommitPartAsync();
        await store.ExecuteAsync(operation, consistency, cancellationToken);
    }
}
