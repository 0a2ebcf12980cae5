using System.Text;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// Everything a command handler needs: the request, the reply writer, the client and the node.
/// One per connection, reused for every request; valid only during the handler call.
/// </summary>
public sealed class CommandContext(RespServer server, ClientSession client, RespWriter writer)
{
    /// <summary>Results of the reads of the command running now; reused, grown on demand.</summary>
    private ReadResult[] _readResults = new ReadResult[4];

    public RespServer Server { get; } = server;

    public ClientSession Client { get; } = client;

    public RespWriter Writer { get; } = writer;

    /// <summary>The store commands run against: inside a single node's EXEC, the transaction's staged view of it.</summary>
    public IKeyValueStore Store => Client.TransactionStore ?? Server.Store;

    public RespRequest Request { get; } = new();

    /// <summary>The definition of the command running now.</summary>
    public CommandDefinition Command { get; internal set; } = null!;

    /// <summary>Set by a handler (QUIT) to close the connection once its reply is flushed.</summary>
    public bool CloseAfterReply { get; set; }

    /// <summary>
    /// Set for the contexts of a connection's <see cref="PipelineWindow"/>: a command that does not complete at once is
    /// timed when the window puts its reply on the output (<see cref="FinishTiming"/>), which is when its client can
    /// have it, instead of by a wrapper state machine per command.
    /// </summary>
    internal bool TimedByWindow { get; set; }

    /// <summary>True while the running command holds the node's isolation gate shared (<see cref="GatedHandler"/>).</summary>
    internal bool HoldsSharedGate { get; set; }

    /// <summary>When the command waiting to be timed by the window started (a <see cref="System.Diagnostics.Stopwatch"/>
    /// timestamp); 0: none.</summary>
    private long _timingStarted;

    private CommandDefinition? _timingCommand;

    /// <summary>The dispatcher hands the timing of a command still running to the window.</summary>
    internal void DeferTiming(CommandDefinition command, long started)
    {
        _timingCommand = command;
        _timingStarted = started;
    }

    /// <summary>Records the deferred timing, if any (the window finished the command).</summary>
    internal void FinishTiming()
    {
        if (_timingStarted != 0)
        {
            CommandDispatcher.Done(this, _timingCommand!, _timingStarted);
            _timingStarted = 0;
            _timingCommand = null;
        }
    }

    public int ArgumentCount => Request.Count;

    public ReadOnlySpan<byte> Argument(int index) => Request[index];

    /// <summary>Argument <paramref name="index"/> as memory, valid while the request runs (across awaits too).</summary>
    public ReadOnlyMemory<byte> ArgumentMemory(int index) => Request.Memory(index);

    /// <summary>Argument <paramref name="index"/> as an array the caller may keep (storage keeps keys and values).</summary>
    public byte[] OwnedArgument(int index) => Request.ToOwnedArray(index);

    public string ArgumentString(int index) => Encoding.UTF8.GetString(Request[index]);

    public bool ArgumentIs(int index, string upperCaseWord) => System.Text.Ascii.EqualsIgnoreCase(Request[index], upperCaseWord);

    public ValueTask Error(string message)
    {
        Writer.WriteError(message);
        return ValueTask.CompletedTask;
    }

    public ValueTask WrongArgumentCount(string commandName)
    {
        Writer.WriteError($"ERR wrong number of arguments for '{commandName}' command");
        return ValueTask.CompletedTask;
    }

    public ValueTask SyntaxError() => Error(RespErrors.Syntax);

    /// <summary>A container command's HELP reply: its lines as simple strings, as redis-server sends them.</summary>
    public ValueTask Help(IReadOnlyList<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        Writer.WriteArrayHeader(lines.Count);
        foreach (string line in lines)
        {
            Writer.WriteSimpleString(line);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Runs a storage operation and then its reply. Completes synchronously when the engine does (the memory
    /// engine always does), so the common path allocates no state machine. A storage failure becomes an
    /// error reply; the connection keeps serving.
    /// </summary>
    public ValueTask Apply<TOperation>(TOperation operation, Action<CommandContext, TOperation> reply)
        where TOperation : IStorageOperation
    {
        ValueTask pending;
        try
        {
            pending = Store.ExecuteAsync(operation, Client.Consistency);
        }
        catch (Exception exception)
        {
            return Error(StorageFailure(exception));
        }

        if (pending.IsCompletedSuccessfully)
        {
            pending.GetAwaiter().GetResult();
            reply(this, operation);
            return ValueTask.CompletedTask;
        }

        return AwaitAndReplyAsync(pending, operation, reply);
    }

    private async ValueTask AwaitAndReplyAsync<TOperation>(ValueTask pending, TOperation operation, Action<CommandContext, TOperation> reply)
    {
        try
        {
            await pending;
        }
        catch (Exception exception)
        {
            Writer.WriteError(StorageFailure(exception));
            return;
        }

        reply(this, operation);
    }

    /// <summary>
    /// Reads the keys at arguments first, first + step, ... (<paramref name="count"/> of them; in a cluster all
    /// at once), then calls <paramref name="reply"/> with the results in argument order. Completes synchronously
    /// when every read does (a single node), so the common path allocates nothing. If any read fails the
    /// command gets one error reply saying how many keys failed and why; no partial result is written.
    /// </summary>
    public ValueTask ReadKeys(int first, int count, int step, ReadReply reply)
    {
        if (_readResults.Length < count)
        {
            _readResults = new ReadResult[Math.Max(count, _readResults.Length * 2)];
        }

        ValueTask<ReadResult>[]? pending = null;
        for (int i = 0; i < count; i++)
        {
            ValueTask<ReadResult> read;
            try
            {
                read = Store.ReadAsync(Request.Memory(first + (i * step)), Client.Consistency);
            }
            catch (Exception exception)
            {
                return Error(StorageFailure(exception));
            }

            if (pending is null && read.IsCompletedSuccessfully)
            {
                _readResults[i] = read.Result;
                continue;
            }

            if (pending is null)
            {
                pending = new ValueTask<ReadResult>[count];
                for (int done = 0; done < i; done++)
                {
                    pending[done] = new ValueTask<ReadResult>(_readResults[done]);
                }
            }

            pending[i] = read;
        }

        if (pending is null)
        {
            reply(this, _readResults.AsSpan(0, count));
            return ValueTask.CompletedTask;
        }

        return AwaitReadsAndReplyAsync(pending, reply);
    }

    private async ValueTask AwaitReadsAndReplyAsync(ValueTask<ReadResult>[] pending, ReadReply reply)
    {
        int failed = 0;
        Exception? firstFailure = null;
        for (int i = 0; i < pending.Length; i++)
        {
            try
            {
                _readResults[i] = await pending[i];
            }
            catch (Exception exception)
            {
                failed++;
                firstFailure ??= exception;
            }
        }

        if (firstFailure is not null)
        {
            string reason = StorageFailure(firstFailure);
            Writer.WriteError(pending.Length == 1 ? reason : $"{reason} ({failed} of {pending.Length} keys failed; no partial reply)");
            return;
        }

        reply(this, _readResults.AsSpan(0, pending.Length));
    }

    /// <summary>
    /// The reply to a failed store call. A quorum failure keeps its own error code (NOQUORUM ...), the way
    /// Redis Cluster answers CLUSTERDOWN; a string read of a hash or a set that reached the client (DGET of one on a
    /// cluster node) is WRONGTYPE; anything else is a storage failure.
    /// </summary>
    /// <summary><see cref="StorageFailure"/> without its leading <c>ERR</c>, for an error that explains it.</summary>
    internal static string StorageFailureReason(Exception exception) =>
        StorageFailure(exception) is var failure && failure.StartsWith("ERR ", StringComparison.Ordinal) ? failure[4..] : failure;

    internal static string StorageFailure(Exception exception) => exception switch
    {
        ObjectDisposedException => "ERR the node is shutting down",
        StoreUnavailableException => exception.Message,
        TypedKeyException => RespErrors.WrongType,
        // A message that is already a Redis error (the engine refusing a FLUSHALL, say) is the reply as it is.
        _ when exception.Message.StartsWith("ERR ", StringComparison.Ordinal) => exception.Message,
        _ => "ERR storage failure: " + exception.Message,
    };
}
