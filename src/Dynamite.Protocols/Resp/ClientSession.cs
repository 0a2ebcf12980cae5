using Dynamite.Protocols.Resp.PubSub;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// One connected client, as CLIENT LIST and INFO show it. Written by its connection's loop only; other
/// threads (CLIENT LIST, the idle sweep) read it racily, which is fine for reporting.
/// </summary>
public sealed class ClientSession(long id, string remoteAddress, string localAddress, long connectedAtUnixMs)
{
    private volatile ClientOutbox? _outbox;

    /// <summary>CLIENT TRACKING settings while tracking is on; null: off. Set by <see cref="Resp.Tracking.KeyTracker.Set"/> only.</summary>
    public Tracking.TrackingSettings? Tracking { get; internal set; }

    /// <summary>For a script's own client: the client that runs the script (whose NOLOOP its writes respect).</summary>
    public ClientSession? ScriptCaller { get; init; }

    /// <summary>While EXEC or a script runs with tracking on: the keys its commands changed, announced when it ends.</summary>
    public List<byte[]>? TrackingBatch { get; set; }

    /// <summary>CLIENT CACHING's answer for the next command (OPTIN/OPTOUT); null: none given.</summary>
    public bool? CachingNext { get; set; }

    /// <summary>Connected through the TLS port: CLUSTER SLOTS, SHARDS and NODES then name TLS ports.</summary>
    public bool UsesTls { get; init; }
    private volatile bool _shutdownRequested;
    private long _queryBufferBytes;
    private long _lastInteractionUnixMs = connectedAtUnixMs;
    private long _keyspaceHits;
    private long _keyspaceMisses;

    public long Id { get; } = id;

    public string RemoteAddress { get; } = remoteAddress;

    public string LocalAddress { get; } = localAddress;

    public long ConnectedAtUnixMs { get; } = connectedAtUnixMs;

    public string? Name { get; set; }

    public string? LibraryName { get; set; }

    public string? LibraryVersion { get; set; }

    public bool Authenticated { get; set; }

    /// <summary>The ACL user this client runs as (the default user until AUTH); null for the node's own internal clients,
    /// whose commands were checked where they came from.</summary>
    internal Acl.AclUser? User { get; set; }

    /// <summary>A command another node forwarded here (<see cref="ForwardedCommandRunner"/>): it runs here, never forwarded again.</summary>
    public bool IsForwarded { get; init; }

    /// <summary>The client a running script's <c>redis.call</c>s run as.</summary>
    public bool IsScript { get; init; }

    /// <summary>True while EXEC runs this client's queued commands: a blocking command then answers at once, as in Redis.</summary>
    public bool InExec { get; set; }

    /// <summary>While EXEC runs on a single node: the staged view its commands write to, committed when they are done.</summary>
    internal Dynamite.Core.KeyValue.IKeyValueStore? TransactionStore { get; set; }

    /// <summary>Fires when the connection closes: a blocked command stops waiting.</summary>
    public CancellationToken Closed { get; set; }

    public int ProtocolVersion { get; set; } = 2;

    /// <summary>This connection's consistency (DYN.CONSISTENCY); null uses the cluster's defaults.</summary>
    public Dynamite.Core.Quorum.ConsistencyLevel? Consistency { get; set; }

    /// <summary>The commands queued since MULTI; null outside a transaction.</summary>
    public QueuedTransaction? Transaction { get; set; }

    /// <summary>The keys WATCHed since the last EXEC, DISCARD or UNWATCH; null when none.</summary>
    public WatchedKeys? Watched { get; set; }

    public string LastCommand { get; set; } = "NULL";

    public long CommandsProcessed { get; set; }

    /// <summary>Counted by <see cref="CountHit"/>; pipelined commands of one connection may complete on different threads at once.</summary>
    public long KeyspaceHits => Interlocked.Read(ref _keyspaceHits);

    public long KeyspaceMisses => Interlocked.Read(ref _keyspaceMisses);

    public long LastInteractionUnixMs
    {
        get => Volatile.Read(ref _lastInteractionUnixMs);
        set => Volatile.Write(ref _lastInteractionUnixMs, value);
    }

    /// <summary>Bytes read but not yet parsed into a whole command after the last read (CLIENT LIST qbuf); written by the connection's reader only.</summary>
    public long QueryBufferBytes
    {
        get => Volatile.Read(ref _queryBufferBytes);
        set => Volatile.Write(ref _queryBufferBytes, value);
    }

    /// <summary>Closes the connection from another thread (idle timeout, CLIENT KILL).</summary>
    public Action Abort { get; set; } = static () => { };

    /// <summary>Makes the connection's loop write what waits in its <see cref="Outbox"/> even while it waits for input.</summary>
    public Action Wake { get; set; } = static () => { };

    /// <summary>Set when the server asks the connection to close, so a woken read tells shutdown from a pushed message.</summary>
    public bool ShutdownRequested
    {
        get => _shutdownRequested;
        set => _shutdownRequested = value;
    }

    /// <summary>The channels, patterns and shard channels subscribed to; null until the first SUBSCRIBE.</summary>
    public ClientSubscriptions? Subscriptions { get; set; }

    /// <summary>RESP2's subscribed state: only (un)subscribe commands, PING, QUIT and RESET are allowed.</summary>
    public bool InSubscribedMode => ProtocolVersion == 2 && Subscriptions is { Total: > 0 };

    /// <summary>CLIENT REPLY OFF: no replies until CLIENT REPLY ON (pushes still arrive).</summary>
    public bool RepliesOff { get; set; }

    /// <summary>CLIENT REPLY SKIP: the next command's reply is dropped.</summary>
    public bool SkipNextReply { get; set; }

    /// <summary>MONITOR was sent: every command the node runs is pushed to this client.</summary>
    public bool IsMonitor { get; set; }

    /// <summary>Messages and MONITOR lines waiting to be written; null until the client subscribes or monitors.</summary>
    public ClientOutbox? Outbox => _outbox;

    /// <summary>The outbox, made on first use by the connection's own loop.</summary>
    public ClientOutbox EnsureOutbox()
    {
        if (_outbox is { } outbox)
        {
            return outbox;
        }

        // Any thread may be first (a tracking invalidation redirected to this client): one outbox wins.
#pragma warning disable CS0420 // A volatile field passed by reference: Interlocked supplies the barrier.
        // Through lambdas: the connection sets Wake and Abort after registering, and an outbox made before must use them.
        return Interlocked.CompareExchange(ref _outbox, new ClientOutbox(() => Wake(), () => Abort()), null) ?? _outbox!;
#pragma warning restore CS0420
    }

    public void CountHit() => Interlocked.Increment(ref _keyspaceHits);

    public void CountMiss() => Interlocked.Increment(ref _keyspaceMisses);
}
