using System.Text;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// Everything a command handler needs: the request, the reply writer, the client and the node.
/// One per connection, reused for every request; valid only during the handler call.
/// </summary>
public sealed class CommandContext(RespServer server, ClientSession client, RespWriter writer)
{
    public RespServer Server { get; } = server;

    public ClientSession Client { get; } = client;

    public RespWriter Writer { get; } = writer;

    public IKeyValueStore Store => Server.Store;

    public RespRequest Request { get; } = new();

    /// <summary>The definition of the command running now.</summary>
    public CommandDefinition Command { get; internal set; } = null!;

    /// <summary>Set by a handler (QUIT) to close the connection once its reply is flushed.</summary>
    public bool CloseAfterReply { get; set; }

    public int ArgumentCount => Request.Count;

    public ReadOnlySpan<byte> Argument(int index) => Request[index];

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
            pending = Store.ExecuteAsync(operation);
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

    private static string StorageFailure(Exception exception) => exception is ObjectDisposedException
        ? "ERR the node is shutting down"
        : "ERR storage failure: " + exception.Message;
}
