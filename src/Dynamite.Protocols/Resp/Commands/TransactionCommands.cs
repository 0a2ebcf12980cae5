using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// MULTI, EXEC, DISCARD, WATCH and UNWATCH, as redis-server answers them. Between MULTI and EXEC every other command
/// is checked (known, arity, authentication) and queued, answering <c>+QUEUED</c> (<see cref="CommandDispatcher"/>);
/// EXEC runs the queue in order and answers an array of the replies, or <c>EXECABORT</c> and runs nothing when a
/// command was refused while queueing. A command that fails while running (say INCR on a non-integer) puts its error
/// in the array and the others still run, as in Redis. What EXEC does not give (README, "Transactions"): isolation
/// from other clients' commands, which may interleave with the queued ones. WATCH reads each key and EXEC reads them
/// again, answering null and running nothing when one changed (<see cref="WatchedKeys"/> says exactly what is seen).
/// </summary>
internal static class TransactionCommands
{
    private const CommandFlags TransactionFlags = CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale;

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("MULTI", 1, TransactionFlags, 0, 0, 0, "transactions", "1.2.0", "Starts a transaction.", Multi),
        new("EXEC", 1, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, "transactions", "1.2.0", "Executes all commands in a transaction.", Exec),
        new("DISCARD", 1, TransactionFlags, 0, 0, 0, "transactions", "2.0.0", "Discards a transaction.", Discard),
        new("WATCH", -2, TransactionFlags, 1, -1, 1, "transactions", "2.2.0", "Monitors changes to keys to determine the execution of a transaction.", Watch),
        new("UNWATCH", 1, TransactionFlags, 0, 0, 0, "transactions", "2.2.0", "Forgets about watched keys of a transaction.", Unwatch),
    ];

    /// <summary>The commands that act at once inside MULTI instead of being queued, as in redis-server.</summary>
    public static bool RunsImmediatelyInMulti(CommandDefinition command) =>
        command.LowerName is "exec" or "discard" or "multi" or "watch" or "quit" or "reset";

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
        context.Client.Watched = null;
        context.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }

    private static ValueTask Watch(CommandContext context)
    {
        if (context.Client.Transaction is not null)
        {
            return context.Error("ERR WATCH inside MULTI is not allowed");
        }

        if ((context.Client.Watched?.Count ?? 0) + context.ArgumentCount - 1 > WatchedKeys.MaxKeys)
        {
            return context.Error($"ERR WATCH: a client watches at most {WatchedKeys.MaxKeys} keys");
        }

        if (context.Store is IVersionedKeyValueStore && !HashSlot.AllInOne(Enumerable.Range(1, context.ArgumentCount - 1).Select(context.OwnedArgument).Concat(context.Client.Watched?.Keys ?? [])))
        {
            return context.Error(RespErrors.CrossSlot);
        }

        return WatchAsync(context);
    }

    private static async ValueTask WatchAsync(CommandContext context)
    {
        byte[][] keys = [.. Enumerable.Range(1, context.ArgumentCount - 1).Select(context.OwnedArgument)];
        ulong[] fingerprints = new ulong[keys.Length];
        try
        {
            for (int i = 0; i < keys.Length; i++)
            {
                fingerprints[i] = WatchedKeys.Fingerprint(await context.Store.ReadAsync(keys[i], context.Client.Consistency));
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Nothing is watched from this call: a key that could not be read cannot be checked at EXEC.
            context.Writer.WriteError(CommandContext.StorageFailure(exception));
            return;
        }

        WatchedKeys watched = context.Client.Watched ??= new WatchedKeys();
        for (int i = 0; i < keys.Length; i++)
        {
            watched.Add(keys[i], fingerprints[i]);
        }

        context.Writer.WriteOk();
    }

    private static ValueTask Unwatch(CommandContext context)
    {
        context.Client.Watched = null;
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
        WatchedKeys? watched = context.Client.Watched;
        context.Client.Watched = null;
        if (transaction.Aborted)
        {
            return context.Error("EXECABORT Transaction discarded because of previous errors.");
        }

        if (context.Store is IVersionedKeyValueStore && !HashSlot.AllInOne(QueuedKeys(context.Server.Commands, transaction).Concat(watched?.Keys ?? [])))
        {
            // Redis Cluster's rule, checked before anything runs: a transaction's keys live in one slot, which is one
            // partition here, so one replica set coordinates all of them.
            return context.Error(RespErrors.CrossSlot);
        }

        if (watched is { Count: > 0 })
        {
            return CheckWatchedThenRunAsync(context, transaction, watched);
        }

        context.Writer.WriteArrayHeader(transaction.Commands.Count);
        return transaction.Commands.Count == 0 ? ValueTask.CompletedTask : RunQueuedAsync(context, transaction);
    }

    /// <summary>Reads every watched key again; runs the queue only when none changed, else answers null as redis-server does.</summary>
    private static async ValueTask CheckWatchedThenRunAsync(CommandContext context, QueuedTransaction transaction, WatchedKeys watched)
    {
        foreach (byte[] key in watched.Keys)
        {
            ulong now;
            try
            {
                now = WatchedKeys.Fingerprint(await context.Store.ReadAsync(key, context.Client.Consistency));
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // Nothing ran: the check could not be made.
                context.Writer.WriteError(CommandContext.StorageFailure(exception));
                return;
            }

            if (watched.Changed(key, now))
            {
                context.Writer.WriteNullArray();
                return;
            }
        }

        context.Writer.WriteArrayHeader(transaction.Commands.Count);
        if (transaction.Commands.Count > 0)
        {
            await RunQueuedAsync(context, transaction);
        }
    }

    /// <summary>The keys the queued commands name (<see cref="CommandDefinition.KeysOf"/>).</summary>
    private static IEnumerable<byte[]> QueuedKeys(CommandTable commands, QueuedTransaction transaction) =>
        transaction.Commands.SelectMany(arguments =>
            commands.TryGet(arguments[0], out CommandDefinition? command) ? command.KeysOf(arguments) : []);

    /// <summary>Runs each queued command to completion before the next, replies into EXEC's array.</summary>
    private static async ValueTask RunQueuedAsync(CommandContext context, QueuedTransaction transaction)
    {
        var queued = new CommandContext(context.Server, context.Client, context.Writer);
        context.Client.InExec = true;
        using Blocking.WakeHold hold = context.Server.BlockedClients.HoldWakes();
        try
        {
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
        }
        finally
        {
            context.Client.InExec = false;
        }

        queued.Request.Release();
        // The queued commands shared EXEC's writer: EXEC itself answered an array, not the last one's error (commandstats).
        context.Writer.BeginReply();
    }
}
