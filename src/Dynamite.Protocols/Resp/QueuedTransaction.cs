namespace Dynamite.Protocols.Resp;

/// <summary>
/// The commands a client queued between MULTI and EXEC, each a copy of its arguments (the input buffer they came in
/// is reused before EXEC arrives). As in redis-server, a command refused while queueing (unknown, wrong arity, not
/// allowed) marks the transaction <see cref="Aborted"/>, and EXEC then runs nothing. Bounded: a client cannot make
/// the node buffer more than <see cref="MaxCommands"/> commands or <see cref="MaxBytes"/> of arguments.
/// </summary>
public sealed class QueuedTransaction(long maxBytes)
{
    /// <summary>Most commands one transaction may queue.</summary>
    public const int MaxCommands = 100_000;

    private readonly List<byte[][]> _commands = [];
    private long _bytes;

    /// <summary>Most argument bytes one transaction may queue (the client query buffer limit).</summary>
    public long MaxBytes { get; } = maxBytes;

    public IReadOnlyList<byte[][]> Commands => _commands;

    /// <summary>True once a command was refused while queueing: EXEC answers EXECABORT and runs nothing.</summary>
    public bool Aborted { get; private set; }

    public void Abort() => Aborted = true;

    /// <summary>Whether a queued command may add memory (Redis's denyoom): EXEC is then refused while the node is over <c>maxmemory</c>.</summary>
    public bool MayAddMemory { get; set; }

    /// <summary>Queues a command another node checked and forwarded (<see cref="Commands.ForwardedTransactions"/>); false past <see cref="MaxCommands"/>.</summary>
    public bool Add(byte[][] arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        if (_commands.Count >= MaxCommands)
        {
            return false;
        }

        _commands.Add(arguments);
        return true;
    }

    /// <summary>Copies and queues a request; false (and the transaction aborted) when it would pass a bound.</summary>
    public bool TryQueue(RespRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        long bytes = 0;
        for (int i = 0; i < request.Count; i++)
        {
            bytes += request[i].Length;
        }

        if (_commands.Count >= MaxCommands || _bytes + bytes > MaxBytes)
        {
            Aborted = true;
            return false;
        }

        var arguments = new byte[request.Count][];
        for (int i = 0; i < request.Count; i++)
        {
            arguments[i] = request.ToOwnedArray(i);
        }

        _commands.Add(arguments);
        _bytes += bytes;
        return true;
    }
}
