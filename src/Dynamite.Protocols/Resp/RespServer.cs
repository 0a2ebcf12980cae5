using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// The node-wide state of the RESP front end: the store, the command table, connected clients and settings.
/// One per node, shared by every connection.
/// </summary>
public sealed class RespServer : IDisposable
{
    /// <summary>The Redis version Dynamite reports: the command set and replies follow redis-server 7.0.</summary>
    public const string CompatibleRedisVersion = "7.0.15";

    private readonly ITimer? _idleSweep;
    private Core.Membership.NodeId? _actor;
    private long _lastSaveUnixSeconds;
    private readonly Lazy<Scripting.ScriptRunner> _scripts;

    /// <param name="store">The key-value seam the commands run against.</param>
    /// <param name="options">The front end's settings.</param>
    /// <param name="clock">The node's clock.</param>
    /// <param name="metrics">The node's RESP instruments; null: commands are not measured.</param>
    public RespServer(IKeyValueStore store, RespServerOptions options, TimeProvider clock, RespMetrics? metrics = null)
    {
        options.Limits.Validate();
        Store = store;
        Options = options;
        Acl = new Acl.AclUsers(Commands, options.RequirePass);
        if (options.AclFile is { } aclFile)
        {
            // As redis-server: a configured ACL file that cannot be read or has a bad line stops the start.
            try
            {
                Acl.Load(File.ReadAllLines(aclFile));
            }
            catch (Acl.AclRuleException exception)
            {
                throw new InvalidOperationException($"aclfile {aclFile}: {exception.Message}", exception);
            }
        }

        AuthFailures = new Acl.AuthFailureThrottle(clock);
        _protectedMode = options.ProtectedMode ? 1 : 0;
        Clock = clock;
        Metrics = metrics;
        PubSub = new PubSub.PubSubHub(() => NowUnixMs) { Relay = options.MessageRelay };
        Keyspace = new PubSub.KeyspaceNotifier(PubSub);
        Tracking = new Tracking.KeyTracker(Clients, PubSub, () => NowUnixMs);
        Memory = new Memory.MemoryLimit { MaxBytes = options.MaxMemoryBytes, Policy = options.MaxMemoryPolicy };
        Memory.Access.Clear(clock.GetUtcNow().ToUnixTimeMilliseconds());
        _scripts = new Lazy<Scripting.ScriptRunner>(() => new Scripting.ScriptRunner(clock, options.ScriptMemoryLimitBytes, options.ScriptLogger), LazyThreadSafetyMode.ExecutionAndPublication);
        metrics?.ObserveClients(Clients);
        StartedAtUnixMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        _lastSaveUnixSeconds = StartedAtUnixMs / 1000;
        if (options.IdleTimeout > TimeSpan.Zero)
        {
            long timeoutMs = (long)options.IdleTimeout.TotalMilliseconds;
            _idleSweep = clock.CreateTimer(
                _ => Clients.CloseIdle(clock.GetUtcNow().ToUnixTimeMilliseconds(), timeoutMs),
                null,
                TimeSpan.FromSeconds(1),
                TimeSpan.FromSeconds(1));
        }
    }

    public IKeyValueStore Store { get; }

    /// <summary><c>maxmemory</c> and its policy (<see cref="Memory.KeyEvictor"/> acts on them before commands).</summary>
    public Memory.MemoryLimit Memory { get; }

    public RespServerOptions Options { get; }

    public TimeProvider Clock { get; }

    /// <summary>Where commands are timed and counted; null when the node does not measure them.</summary>
    public RespMetrics? Metrics { get; }

    public CommandTable Commands { get; } = CommandTable.CreateDefault();

    /// <summary>The ACL users (ACL SETUSER, AUTH user pass) and the ACL log.</summary>
    internal Acl.AclUsers Acl { get; }

    /// <summary>Failed AUTHs per client address, and the delay the next one is answered after.</summary>
    internal Acl.AuthFailureThrottle AuthFailures { get; }

    /// <summary>Where this node's ACL changes are published (a cluster node's gossip); null: they stay on this node.</summary>
    public Acl.IAclUserReplication? AclReplication
    {
        get => Acl.Replication;
        set => Acl.Replication = value;
    }

    /// <summary>
    /// Whether <paramref name="user"/> with <paramref name="password"/> may change the cluster through the admin API:
    /// it authenticates as AUTH would, and may run every @admin command. A failure counts against
    /// <paramref name="remoteAddress"/> (the AUTH throttle) and goes to ACL LOG; <paramref name="delay"/> is how long the
    /// refusal should wait.
    /// </summary>
    public bool AuthorizeAdmin(string user, string password, string remoteAddress, out TimeSpan delay)
    {
        if (Acl.Authenticate(user, password) is { } found && found.State.AllowsCategory("admin", Commands))
        {
            AuthFailures.OnSuccess(remoteAddress);
            delay = TimeSpan.Zero;
            return true;
        }

        delay = AuthFailures.OnFailure(remoteAddress);
        Acl.Log.Add("auth", "admin-api", "admin-api", user, "addr=" + remoteAddress, NowUnixMs);
        return false;
    }

    /// <summary>
    /// Applies an ACL user change made through another node (rules as ACL LIST writes them; null: deleted). The user's
    /// clients are closed when it was deleted, as ACL DELUSER closes them, and its subscribers whose channels it lost.
    /// </summary>
    public void ApplyReplicatedAclUser(string name, string? rules)
    {
        if (Acl.ApplyReplicated(name, rules) is not { } user)
        {
            return;
        }

        if (user.Deleted)
        {
            Dynamite.Protocols.Resp.Acl.AclRevocations.CloseClientsOfDeletedUsers(this, current: null);
        }
        else
        {
            Dynamite.Protocols.Resp.Acl.AclRevocations.CloseSubscribers(this, user, current: null);
        }
    }

    public ClientRegistry Clients { get; } = new();

    /// <summary>This node's subscribers and the delivery of published messages (to them, and through the relay to other nodes).</summary>
    public PubSub.PubSubHub PubSub { get; }

    /// <summary>CLIENT TRACKING: which clients cache which keys, and their invalidations.</summary>
    public Tracking.KeyTracker Tracking { get; }

    /// <summary>The script thread and cache (made on the first script: a node that runs none has no Lua state).</summary>
    internal Scripting.ScriptRunner Scripts => _scripts.Value;

    /// <summary>True while a script runs past lua-time-limit: other clients are answered BUSY, as by redis-server.</summary>
    internal bool ScriptIsBusy => _scripts.IsValueCreated && _scripts.Value.IsBusy;

    /// <summary>Held shared by every client command and exclusively by EXEC and scripts (<see cref="Commands.GatedHandler"/>).</summary>
    internal Isolation.IsolationGate Isolation { get; } = new();

    /// <summary><see cref="ScriptIsBusy"/> as the gate's waiters poll it: made once, not per wait.</summary>
    internal Func<bool> ScriptIsBusyCheck => _scriptIsBusyCheck ??= () => ScriptIsBusy;

    private Func<bool>? _scriptIsBusyCheck;

    /// <summary>For INFO memory, read without starting the script thread.</summary>
    internal long ScriptMemoryBytes => _scripts.IsValueCreated ? _scripts.Value.LuaMemoryBytes : 0;

    internal long ScriptCacheBytes => _scripts.IsValueCreated ? _scripts.Value.Cache.Bytes : 0;

    internal int CachedScripts => _scripts.IsValueCreated ? _scripts.Value.Cache.Count : 0;

    internal int LoadedFunctions => _scripts.IsValueCreated ? _scripts.Value.Functions.FunctionCount : 0;

    /// <summary>lua-time-limit, read without starting the script thread.</summary>
    internal TimeSpan ScriptBusyThreshold => _scripts.IsValueCreated ? _scripts.Value.BusyThreshold : TimeSpan.FromSeconds(5);

    /// <summary>Keyspace notifications (notify-keyspace-events).</summary>
    public PubSub.KeyspaceNotifier Keyspace { get; }

    /// <summary>The clients that sent MONITOR.</summary>
    public PubSub.MonitorFeed Monitors { get; } = new();

    /// <summary>Clients blocked on keys (BZPOPMIN); the storage engine tells it which keys each commit changed.</summary>
    public Blocking.BlockedClients BlockedClients { get; } = new();

    /// <summary>The actor of the dots this node's typed-key writes take (docs/DATA-TYPES.md): the node's own id.</summary>
    internal Core.Membership.NodeId Actor => _actor ??= new Core.Membership.NodeId(Options.NodeId);

    /// <summary>The positions behind HSCAN's and SSCAN's cursors.</summary>
    internal Commands.TypedKeys.ElementScanCursors ElementScanCursors { get; } = new();

    /// <summary>The encoding thresholds CONFIG SET accepts and CONFIG GET reports (they do not change storage).</summary>
    internal Commands.EncodingParameters EncodingParameters { get; } = new();

    public long StartedAtUnixMs { get; }

    /// <summary>LASTSAVE: when SAVE last made every write durable (the start, before any).</summary>
    public long LastSaveUnixSeconds
    {
        get => Interlocked.Read(ref _lastSaveUnixSeconds);
        set => Interlocked.Exchange(ref _lastSaveUnixSeconds, value);
    }

    public string RunId { get; } = Guid.NewGuid().ToString("N") + "00000000";

    private int _protectedMode;

    /// <summary>Whether a new connection must authenticate first: the default user is off or has a password.</summary>
    public bool RequiresAuth => Acl.RequiresAuth;

    /// <summary>Protected mode now: the configured setting, changed by CONFIG SET protected-mode.</summary>
    public bool ProtectedMode
    {
        get => Volatile.Read(ref _protectedMode) == 1;
        set => Volatile.Write(ref _protectedMode, value ? 1 : 0);
    }

    public long NowUnixMs => Clock.GetUtcNow().ToUnixTimeMilliseconds();

    public long NowUnixMicroseconds => (Clock.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;

    public void Dispose()
    {
        _idleSweep?.Dispose();
        if (_scripts.IsValueCreated)
        {
            _scripts.Value.Dispose();
        }
    }
}
