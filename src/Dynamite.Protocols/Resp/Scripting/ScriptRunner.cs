using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Dynamite.Protocols.Resp.Scripting;

/// <summary>
/// The node's script thread: one Lua state (<see cref="LuaSandbox"/>) and one dedicated thread that runs EVAL, FCALL,
/// SCRIPT LOAD and SCRIPT FLUSH one at a time from a bounded queue, so scripts of one node never interleave with one
/// another (other clients' commands may: README, "Scripts"). Time: a script running longer than
/// <see cref="BusyThreshold"/> (<c>lua-time-limit</c>) makes new scripts answer BUSY and may be stopped with SCRIPT
/// KILL unless it wrote; one running longer than <see cref="MaxRunTime"/> is stopped regardless. Memory: the state's
/// allocator is bounded by <see cref="LuaSandbox.MemoryLimitBytes"/>.
/// </summary>
internal sealed class ScriptRunner : IDisposable
{
    /// <summary>Scripts waiting at most; past that EVAL is refused at once.</summary>
    public const int MaxQueued = 1024;

    private readonly BlockingCollection<Action> _jobs = new(MaxQueued);
    private readonly Thread _thread;
    private readonly LuaSandbox _sandbox;
    private readonly ITimer _watchdog;
    private long _runningSince;
    private ScriptCommandHost? _running;
    private volatile string? _runningName;
    private volatile string? _runningCommand;

    public ScriptRunner(TimeProvider clock, long memoryLimitBytes, ILogger? logger)
    {
        Logger = logger;
        _sandbox = new LuaSandbox(memoryLimitBytes);
        _thread = new Thread(Loop) { IsBackground = true, Name = "dynamite-scripts" };
        _thread.Start();
        _watchdog = clock.CreateTimer(_ => Watch(), null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
    }

    public ScriptCache Cache { get; } = new();

    public FunctionLibraries Functions { get; } = new();

    /// <summary>Memory the Lua state holds.</summary>
    public long LuaMemoryBytes => _sandbox.AllocatedBytes;

    /// <summary>The running script's or function's name and command, for FUNCTION STATS; null when none runs.</summary>
    public (string Name, string Command, TimeSpan Duration)? Running =>
        Volatile.Read(ref _running) is not null && _runningName is { } name ? (name, _runningCommand ?? "", Stopwatch.GetElapsedTime(Interlocked.Read(ref _runningSince))) : null;

    public ILogger? Logger { get; }

    /// <summary><c>lua-time-limit</c> (<c>busy-reply-threshold</c>): after this, other scripts are answered BUSY and SCRIPT KILL may stop this one.</summary>
    public TimeSpan BusyThreshold { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest any script runs; past it, it is stopped even if it wrote.</summary>
    public TimeSpan MaxRunTime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>True while a script runs past <see cref="BusyThreshold"/>.</summary>
    /// <summary>True while a script or function runs.</summary>
    public bool IsRunning => Volatile.Read(ref _running) is not null;

    public bool IsBusy => _running is not null && Stopwatch.GetElapsedTime(Interlocked.Read(ref _runningSince)) > BusyThreshold;

    /// <summary>Queues <paramref name="work"/> for the script thread; false when the queue is full.</summary>
    public bool TryQueue(Action work) => _jobs.TryAdd(work);

    /// <summary>Compiles (and caches) a body on the script thread; null, or the compile error. Runs on the script thread only.</summary>
    public string? Compile(string sha, byte[] body) => _sandbox.Compile(sha, body);

    /// <summary>Runs a compiled script on the script thread (only), its reply written to <paramref name="reply"/>.</summary>
    public void Run(string sha, IReadOnlyList<byte[]> keys, IReadOnlyList<byte[]> argv, ScriptCommandHost host, RespWriter reply)
    {
        Interlocked.Exchange(ref _runningSince, Stopwatch.GetTimestamp());
        Volatile.Write(ref _running, host);
        try
        {
            _sandbox.Run(sha, keys, argv, host, reply);
        }
        finally
        {
            Volatile.Write(ref _running, null);
        }
    }

    /// <summary>FCALL on the script thread (only); false when the function is not loaded.</summary>
    public bool Call(string function, string command, IReadOnlyList<byte[]> keys, IReadOnlyList<byte[]> argv, ScriptCommandHost host, RespWriter reply)
    {
        Interlocked.Exchange(ref _runningSince, Stopwatch.GetTimestamp());
        _runningName = function;
        _runningCommand = command;
        Volatile.Write(ref _running, host);
        try
        {
            return _sandbox.CallFunction(function, keys, argv, host, reply);
        }
        finally
        {
            Volatile.Write(ref _running, null);
            _runningName = null;
        }
    }

    /// <summary>FUNCTION LOAD on the script thread (only).</summary>
    public (string? Name, string? Error) LoadLibrary(byte[] code, bool replace, bool restoring = false) => Functions.Load(_sandbox, code, replace, restoring);

    /// <summary>FUNCTION DELETE on the script thread (only).</summary>
    public bool DeleteLibrary(string name) => Functions.Delete(_sandbox, name);

    /// <summary>FUNCTION FLUSH on the script thread (only).</summary>
    public void FlushFunctions() => Functions.Flush(_sandbox);

    /// <summary>SCRIPT FLUSH on the script thread (only).</summary>
    public void Flush()
    {
        Cache.Clear();
        _sandbox.Flush();
    }

    /// <summary>SCRIPT KILL and FUNCTION KILL: null when the running script will stop, else redis-server's refusal.</summary>
    public string? Kill(bool function)
    {
        ScriptCommandHost? running = Volatile.Read(ref _running);
        if (running is null)
        {
            return "NOTBUSY No scripts in execution right now.";
        }

        if (running.Wrote)
        {
            return "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
        }

        // SCRIPT KILL stops only scripts and FUNCTION KILL only functions; each names the other, as redis-server does.
        if (function != (_runningName is not null))
        {
            return function
                ? "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
                : "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
        }

        _sandbox.AbortReason = "ERR Script killed by user with SCRIPT KILL...";
        return null;
    }

    public void Dispose()
    {
        _watchdog.Dispose();
        _jobs.CompleteAdding();
        _sandbox.AbortReason = "ERR the node is shutting down";
        if (_thread.Join(TimeSpan.FromSeconds(5)))
        {
            _sandbox.Dispose();
        }

        _jobs.Dispose();
    }

    private void Watch()
    {
        if (Volatile.Read(ref _running) is not null && Stopwatch.GetElapsedTime(Interlocked.Read(ref _runningSince)) > MaxRunTime)
        {
            _sandbox.AbortReason = $"ERR script ran past the {(long)MaxRunTime.TotalMilliseconds} ms limit and was stopped (its writes so far stay applied)";
        }
    }

    private void Loop()
    {
        foreach (Action job in _jobs.GetConsumingEnumerable())
        {
            try
            {
                job();
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                Logger?.LogError(exception, "A script job failed");
            }
        }
    }
}
