using System.Text;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// MULTI, EXEC, DISCARD, WATCH and UNWATCH, as redis-server answers them. Between MULTI and EXEC every other command
/// is checked (known, arity, authentication) and queued, answering <c>+QUEUED</c> (<see cref="CommandDispatcher"/>);
/// EXEC runs the queue in order and answers an array of the replies, or <c>EXECABORT</c> and runs nothing when a
/// command was refused while queueing. A command that fails while running (say INCR on a non-integer) puts its error
/// in the array and the others still run, as in Redis. EXEC holds the node's isolation gate alone (<see cref="GatedHandler"/>),
/// so no other client's command runs between the queued ones; on a single node their writes are committed together. WATCH reads each key and EXEC reads them
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

        return RunQueuedAsync(context, transaction);
    }

    /// <summary>Reads every watched key again; runs the queue only when none changed, else answers null as redis-server does.</summary>
    internal static async ValueTask CheckWatchedThenRunAsync(CommandContext context, QueuedTransaction transaction, WatchedKeys watched)
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

        await RunQueuedAsync(context, transaction);
    }

    /// <summary>The keys the queued commands name (<see cref="CommandDefinition.KeysOf"/>).</summary>
    private static IEnumerable<byte[]> QueuedKeys(CommandTable commands, QueuedTransaction transaction) =>
        transaction.Commands.SelectMany(arguments =>
            commands.TryGet(arguments[0], out CommandDefinition? command) ? command.KeysOf(arguments) : []);

    /// <summary>
    /// Runs the queue, each command to completion before the next, and answers the array of their replies. Where the store
    /// can hold writes back (a single node), the commands run against a staged view of it and their writes are committed
    /// together at the end, in one storage transaction, so the transaction is durable whole or not at all; their replies
    /// wait in a buffer until that commit, and a failed commit answers EXECABORT instead.
    /// </summary>
    internal static ValueTask RunQueuedAsync(CommandContext context, QueuedTransaction transaction)
    {
        if (transaction.Commands.Count == 0)
        {
            context.Writer.WriteArrayHeader(0);
            return ValueTask.CompletedTask;
        }

        if (context.Store.BeginStaged() is { } staged)
        {
            return RunStagedAsync(context, transaction, staged);
        }

        context.Writer.WriteArrayHeader(transaction.Commands.Count);
        return RunUnstagedAsync(context, transaction);
    }

    private static async ValueTask RunUnstagedAsync(CommandContext context, QueuedTransaction transaction) =>
        await RunEachAsync(context, transaction, context.Writer, staged: null);

    private static async ValueTask RunStagedAsync(CommandContext context, QueuedTransaction transaction, IStagedKeyValueStore staged)
    {
        using var replies = new ReplyBuffer();
        var writer = new RespWriter { ProtocolVersion = context.Client.ProtocolVersion };
        writer.Attach(replies);
        bool committedPart = false;
        try
        {
            context.Client.TransactionStore = staged;
            committedPart = await RunEachAsync(context, transaction, writer, staged);
            await staged.CommitAsync();
        }
        catch (Exception exception) when (MayBeApplied(exception) is { } partly)
        {
            // A cluster commit stored on its coordinating replica that did not reach W: not "discarded", and not retried
            // blindly either; the error says what Dynamo says of any write that missed its quorum.
            context.Writer.WriteError(partly.Message);
            return;
        }
        catch (StagedCommitException exception)
        {
            context.Writer.WriteError(committedPart || exception.CommittedPart
                ? $"ERR EXEC's last writes were not stored, its first ones were (committed before a keyspace-wide command or past {MaxStagedChanges} changes): {CommandContext.StorageFailureReason(exception.InnerException!)}"
                : $"EXECABORT Transaction discarded because of: {CommandContext.StorageFailure(exception.InnerException!)}");
            return;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            context.Writer.WriteError(committedPart
                ? $"ERR EXEC's last writes were not stored, its first ones were (committed before a keyspace-wide command or past {MaxStagedChanges} changes): {CommandContext.StorageFailureReason(exception)}"
                : $"EXECABORT Transaction discarded because of: {CommandContext.StorageFailure(exception)}");
            return;
        }
        finally
        {
            context.Client.TransactionStore = null;
            context.Writer.ProtocolVersion = context.Client.ProtocolVersion;
        }

        context.Writer.WriteArrayHeader(transaction.Commands.Count);
        context.Writer.WriteRaw(replies.WrittenSpan);
    }

    /// <summary>The failure of a commit that may be stored on some replicas (<see cref="StoreUnavailableException.MayBeApplied"/>), if it is one.</summary>
    private static StoreUnavailableException? MayBeApplied(Exception exception) =>
        (exception as StoreUnavailableException ?? exception.InnerException as StoreUnavailableException) is { MayBeApplied: true } failure ? failure : null;

    /// <summary>A commit of what was staged before a keyspace-wide command failed: EXEC stops there.</summary>
    private sealed class StagedCommitException(Exception inner, bool committedPart) : Exception(inner.Message, inner)
    {
        public bool CommittedPart { get; } = committedPart;
    }

    /// <summary>
    /// The most changes a transaction holds back in memory: past this (a transaction whose commands write large sets, say)
    /// what is staged is committed before its next command, so it is committed in parts rather than held without bound.
    /// </summary>
    public const int MaxStagedChanges = 100_000;

    /// <summary>
    /// The commands that read what the staged view cannot show (the whole keyspace, or the store itself, as a script does):
    /// what is staged before them is committed first, so they see it. A transaction with one of them after a write is
    /// committed in two parts.
    /// </summary>
    internal static bool CommitsStagedBefore(ReadOnlySpan<byte> name) =>
        Ascii.EqualsIgnoreCase(name, "KEYS"u8) || Ascii.EqualsIgnoreCase(name, "SCAN"u8) || Ascii.EqualsIgnoreCase(name, "DBSIZE"u8)
        || Ascii.EqualsIgnoreCase(name, "RANDOMKEY"u8) || Ascii.EqualsIgnoreCase(name, "FLUSHALL"u8) || Ascii.EqualsIgnoreCase(name, "FLUSHDB"u8)
        || Ascii.EqualsIgnoreCase(name, "INFO"u8) || Ascii.EqualsIgnoreCase(name, "SAVE"u8) || Ascii.EqualsIgnoreCase(name, "BGSAVE"u8)
        || Ascii.EqualsIgnoreCase(name, "DYN.LOCALDBSIZE"u8) || Ascii.EqualsIgnoreCase(name, "EVAL"u8) || Ascii.EqualsIgnoreCase(name, "EVALSHA"u8)
        || Ascii.EqualsIgnoreCase(name, "EVAL_RO"u8) || Ascii.EqualsIgnoreCase(name, "EVALSHA_RO"u8) || Ascii.EqualsIgnoreCase(name, "FCALL"u8)
        || Ascii.EqualsIgnoreCase(name, "FCALL_RO"u8);

    /// <summary>Runs each queued command to completion before the next, its reply into <paramref name="writer"/>; true when
    /// part of what was staged was committed before a command of <see cref="CommitsStagedBefore"/>.</summary>
    private static async ValueTask<bool> RunEachAsync(CommandContext context, QueuedTransaction transaction, RespWriter writer, IStagedKeyValueStore? staged)
    {
        var queued = new CommandContext(context.Server, context.Client, writer);
        context.Client.InExec = true;
        bool committedPart = false;
        using Blocking.WakeHold hold = context.Server.BlockedClients.HoldWakes();
        try
        {
            foreach (byte[][] arguments in transaction.Commands)
            {
                if (staged is { IsEmpty: false } && (CommitsStagedBefore(arguments[0]) || staged.StagedChangeCount > MaxStagedChanges))
                {
                    try
                    {
                        await staged.CommitAsync();
                    }
                    catch (Exception exception) when (exception is not OutOfMemoryException)
                    {
                        throw new StagedCommitException(exception, committedPart);
                    }

                    committedPart = true;
                }

                queued.Request.Clear();
                foreach (byte[] argument in arguments)
                {
                    queued.Request.Add(argument, owned: true);
                }

                await CommandDispatcher.ExecuteAsync(queued);
                writer.ProtocolVersion = context.Client.ProtocolVersion;
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
        return committedPart;
    }
}
