using Dynamite.Protocols.Resp.Commands;
using Microsoft.Extensions.Logging;

namespace Dynamite.Protocols.Resp.Scripting;

/// <summary>
/// Runs a script's <c>redis.call</c>s through the node's own dispatcher, as a client named "lua" connected to this node
/// would (the same checks, forwarding and consistency as the calling client's connection), waiting for each on the
/// script thread. So a script's writes replicate as the commands they are ("by their effects"). Refuses what a script
/// may not run: the commands Redis marks noscript, and any write from a read-only script. On a single node its writes
/// are held back in a staged view of the store and committed together when it ends (<see cref="RunStaged"/>), as an
/// EXEC's are: after a crash a script's writes are there whole or not at all.
/// </summary>
internal sealed class ScriptCommandHost : IScriptHost, IDisposable
{
    private readonly CommandContext _context;
    private readonly ReplyBuffer _buffer = new();
    private readonly bool _readOnly;
    private readonly ILogger? _logger;
    private readonly ClientSession _caller;
    private readonly byte[][] _declaredKeys;

    /// <summary>Set once the script's declared keys are remembered for its tracking caller.</summary>
    private bool _tracked;

    /// <summary>Clients blocked on keys wake once the script is done, on its whole effect (<see cref="Blocking.BlockedClients.HoldWakes"/>).</summary>
    private readonly Blocking.WakeHold _wakeHold;

    /// <summary>Whether the node was over <c>maxmemory</c> when the script began (redis-server's pre-command OOM state).</summary>
    private readonly bool _outOfMemoryAtStart;

    /// <summary>Where the script's writes wait for its end on a single node; null on a cluster node.</summary>
    private readonly Dynamite.Core.KeyValue.IStagedKeyValueStore? _staged;

    /// <summary>A host for one script run by <paramref name="caller"/> (read-only: <paramref name="readOnly"/>); <paramref name="declaredKeys"/>, the
    /// script's KEYS, are what a tracking caller is told about once the script reads (CLIENT TRACKING). Logs to <paramref name="logger"/>.
    /// Unless <paramref name="allowOom"/>, a script that starts while the node is over <c>maxmemory</c> may not call commands that add
    /// memory until it has written (as redis-server: a script that has begun writing finishes).</summary>
    public ScriptCommandHost(RespServer server, ClientSession caller, bool readOnly, ILogger? logger, byte[][] declaredKeys, bool allowOom = false)
    {
        _outOfMemoryAtStart = !allowOom && server.Memory.IsOver;
        var client = new ClientSession(server.Clients.NextId(), "lua", "lua", server.NowUnixMs)
        {
            Authenticated = true,
            User = caller.User,
            Consistency = caller.Consistency,
            IsScript = true,
            ScriptCaller = caller,
        };
        _staged = server.Store.BeginStaged();
        client.TransactionStore = _staged;
        _caller = caller;
        _declaredKeys = declaredKeys;
        var writer = new RespWriter();
        writer.Attach(_buffer);
        _context = new CommandContext(server, client, writer);
        _readOnly = readOnly;
        _logger = logger;
        _wakeHold = server.BlockedClients.HoldWakes();
    }

    /// <summary>True once a write command ran: SCRIPT KILL then answers UNKILLABLE, as in redis-server.</summary>
    public bool Wrote { get; private set; }

    public byte[] Call(byte[][] arguments)
    {
        CommandTable commands = _context.Server.Commands;
        if (!commands.TryGet(arguments[0], out CommandDefinition? command))
        {
            return "-ERR Unknown Redis command called from script\r\n"u8.ToArray();
        }

        if (!command.AcceptsArgumentCount(arguments.Length))
        {
            return "-ERR Wrong number of args calling Redis command from script\r\n"u8.ToArray();
        }

        if (ScriptCommands.NotAllowedInScripts(command))
        {
            return "-ERR This Redis command is not allowed from script\r\n"u8.ToArray();
        }

        if ((command.Flags & CommandFlags.Write) != 0 && _readOnly)
        {
            return "-ERR Write commands are not allowed from read-only scripts.\r\n"u8.ToArray();
        }

        if ((command.Flags & CommandFlags.DenyOom) != 0 && _outOfMemoryAtStart && !Wrote)
        {
            return System.Text.Encoding.ASCII.GetBytes("-" + Memory.OutOfMemoryRule.Error + "\r\n");
        }

        if ((command.Flags & CommandFlags.Write) != 0)
        {
            Wrote = true;
        }

        if (!_tracked && (command.Flags & CommandFlags.ReadOnly) != 0 && _caller.Tracking is { } tracking && tracking.TracksReads(caching: null))
        {
            // As redis-server: a script that reads makes its caller track every key it declared (before the read runs).
            _tracked = true;
            _context.Server.Tracking.RecordReads(_caller, _declaredKeys);
        }

        if (_staged is { IsEmpty: false } && (TransactionCommands.CommitsStagedBefore(arguments[0]) || _staged.StagedChangeCount > TransactionCommands.MaxStagedChanges))
        {
            // As in EXEC: a keyspace-wide read sees what the script wrote before it.
            try
            {
                _staged.CommitAsync().AsTask().GetAwaiter().GetResult();
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                return System.Text.Encoding.UTF8.GetBytes($"-{CommandContext.StorageFailure(exception)}\r\n");
            }
        }

        _buffer.Reset();
        _context.Request.Clear();
        foreach (byte[] argument in arguments)
        {
            _context.Request.Add(argument, owned: true);
        }

        _context.Writer.ProtocolVersion = _context.Client.ProtocolVersion;
        try
        {
            ValueTask run = CommandDispatcher.ExecuteAsync(_context);
            if (!run.IsCompletedSuccessfully)
            {
                // The script thread is the script's own: it may wait here for a quorum.
                run.AsTask().GetAwaiter().GetResult();
            }
        }
        finally
        {
            _context.Request.Release();
        }

        return _buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Runs the script (<paramref name="run"/>, writing its reply) and then commits what it staged; the reply goes to
    /// <paramref name="writer"/> once its writes are stored, or an error says they were not.
    /// </summary>
    public void RunStaged(RespWriter writer, Action<RespWriter> run)
    {
        if (_staged is null)
        {
            run(writer);
            return;
        }

        using var reply = new ReplyBuffer();
        var scriptWriter = new RespWriter { ProtocolVersion = writer.ProtocolVersion };
        scriptWriter.Attach(reply);
        run(scriptWriter);
        try
        {
            // The script thread is the script's own: it may wait here for the engine's commit.
            _staged.CommitAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (Dynamite.Core.KeyValue.StoreUnavailableException exception) when (exception.MayBeApplied)
        {
            // Stored on the coordinating replica, short of W: as any write that missed its quorum, it may be applied.
            writer.WriteError(exception.Message);
            return;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            writer.WriteError($"ERR the script's writes were not stored: {CommandContext.StorageFailureReason(exception)}");
            return;
        }

        writer.WriteRaw(reply.WrittenSpan);
    }

    public void Log(int level, string message)
    {
        LogLevel mapped = level switch
        {
            0 => LogLevel.Debug,
            1 => LogLevel.Information,
            2 => LogLevel.Information,
            _ => LogLevel.Warning,
        };
        _logger?.Log(mapped, "Script: {Message}", message);
    }

    public void SetProtocol(int version) => _context.Client.ProtocolVersion = version;

    public bool? MayRun(byte[][] arguments)
    {
        if (!_context.Server.Commands.TryGet(arguments[0], out CommandDefinition? command) || !command.AcceptsArgumentCount(arguments.Length))
        {
            return null;
        }

        return _context.Client.User is not { } user || Acl.AclCheck.Check(user.State, command, arguments) is null;
    }

    public void Dispose()
    {
        _buffer.Dispose();
        _wakeHold.Dispose();
    }
}
