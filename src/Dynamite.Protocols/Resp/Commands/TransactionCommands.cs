using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// MULTI, EXEC, DISCARD, WATCH and UNWATCH, as redis-server answers them. Between MULTI and EXEC every other command
/// is checked (known, arity, authentication) and queued, answering <c>+QUEUED</c> (<see cref="CommandDispatcher"/>);
/// EXEC runs the queue in order and answers an array of the replies, or <c>EXECABORT</c> and runs nothing when a
/// command was refused while queueing. A command that fails while running (say INCR on a non-integer) puts its error
/// in the array and the others still run, as in Redis. What EXEC does not give (README, "Transactions"): isolation
/// from other clients' commands, which may interleave with the queued ones. WATCH is refused, and since clients such
/// as StackExchange.Redis go on to EXEC after a refused WATCH, that EXEC aborts (a null reply, as when a watched key
/// changed): a check-and-set transaction never commits without the check.
/// </summary>
internal static class TransactionCommands
{
    private const CommandFlags TransactionFlags = CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale;

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("MULTI", 1, TransactionFlags, 0, 0, 0, "transactions", "1.2.0", "Starts a transaction.", Multi),
        new("EXEC", 1, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, "transactions", "1.2.0", "Executes all commands in a transaction.", Exec),
        new("DISCARD", 1, TransactionFlags, 0, 0, 0, "transactions", "2.0.0", "Discards a transaction.", Discard),
        new("WATCH", -2, TransactionFlags, 1, -1, 1, "transactions", "2.2.0", "Monitors changes to keys to determine the execution of a transaction (not supported).", Watch),
        new("UNWATCH", 1, TransactionFlags, 0, 0, 0, "transactions", "2.2.0", "Forgets about watched keys of a transaction.", Unwatch),
    ];

    /// <summary>The commands that act at once inside MULTI instead of being queued, as in redis-server.</summary>
    public static bool RunsImmediatelyInMulti(CommandDefinition command) =>
        command.LowerName is "exec" or "discard" or "multi" or "watch" or "quit";

    private static ValueTask Multi(CommandContext context)
    {
        if (context.Client.Transaction is not null)
        {
            return context.Error("ERR MULTI calls can not be nested");
        }

        context.Client.Transaction = new QueuedTransaction(context.Server.Options.Limits.MaxQueryBufferBytes);
        context.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }

    private static ValueTask Discard(CommandContext context)
    {
        if (context.Client.Transaction is null)
        {
            return context.Error("ERR DISCARD without MULTI");
        }

        context.Client.Transaction = null;
        context.Client.WatchRefused = false;
        context.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }

    private static ValueTask Watch(CommandContext context)
    {
        if (context.Client.Transaction is not null)
        {
            return context.Error("ERR WATCH inside MULTI is not allowed");
        }

        context.Client.WatchRefused = true;
        return context.Error("ERR WATCH is not supported: the next EXEC aborts (README, \"Transactions\")");
    }

    private static ValueTask Unwatch(CommandContext context)
    {
        context.Client.WatchRefused = false;
        context.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }

    private static ValueTask Exec(CommandContext context)
    {
        QueuedTransaction? transaction = context.Client.Transaction;
        if (transaction is null)
        {
            return context.Error("ERR EXEC without MULTI");
        }

        context.Client.Transaction = null;
        if (transaction.Aborted)
        {
            context.Client.WatchRefused = false;
            return context.Error("EXECABORT Transaction discarded because of previous errors.");
        }

        if (context.Client.WatchRefused)
        {
            // What redis-server answers when a watched key changed: the client reports "not committed".
            context.Client.WatchRefused = false;
            context.Writer.WriteNullArray();
            return ValueTask.CompletedTask;
        }

        if (context.Store is IVersionedKeyValueStore && SpansSeveralSlots(context.Server.Commands, transaction))
        {
            // Redis Cluster's rule, checked before anything runs: a transaction's keys live in one slot, which is one
            // partition here, so one replica set coordinates all of them.
            return context.Error("CROSSSLOT Keys in request don't hash to the same slot");
        }

        context.Writer.WriteArrayHeader(transaction.Commands.Count);
        return transaction.Commands.Count == 0 ? ValueTask.CompletedTask : RunQueuedAsync(context, transaction);
    }

    /// <summary>True when the queued commands name keys of more than one hash slot (by each command's key positions).</summary>
    private static bool SpansSeveralSlots(CommandTable commands, QueuedTransaction transaction)
    {
        int? slot = null;
        foreach (byte[][] arguments in transaction.Commands)
        {
            if (!commands.TryGet(arguments[0], out CommandDefinition? command) || command.FirstKey <= 0 || command.FirstKey >= arguments.Length)
            {
                continue;
            }

            int last = command.LastKey < 0 ? arguments.Length + command.LastKey : Math.Min(command.LastKey, arguments.Length - 1);
            for (int i = command.FirstKey; i <= last; i += Math.Max(1, command.KeyStep))
            {
                int keySlot = HashSlot.Of(arguments[i]);
                if (slot is { } first && first != keySlot)
                {
                    return true;
                }

                slot = keySlot;
            }
        }

        return false;
    }

    /// <summary>Runs each queued command to completion before the next, replies into EXEC's array.</summary>
    private static async ValueTask RunQueuedAsync(CommandContext context, QueuedTransaction transaction)
    {
        var queued = new CommandContext(context.Server, context.Client, context.Writer);
        foreach (byte[][] arguments in transaction.Commands)
        {
            queued.Request.Clear();
            foreach (byte[] argument in arguments)
            {
                queued.Request.Add(argument, owned: true);
            }

            await CommandDispatcher.ExecuteAsync(queued);
            if (queued.CloseAfterReply)
            {
                context.CloseAfterReply = true;
            }
        }

        queued.Request.Release();
    }
}
