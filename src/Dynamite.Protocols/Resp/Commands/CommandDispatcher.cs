using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// Looks a request's command up and runs it, with redis-server's order of checks: unknown command,
/// then arity, then authentication; inside MULTI, a command that passes them is queued instead of run, and one
/// that fails them aborts the transaction (<see cref="TransactionCommands"/>).
/// </summary>
internal static class CommandDispatcher
{
    public static ValueTask ExecuteAsync(CommandContext context)
    {
        RespServer server = context.Server;
        ClientSession client = context.Client;
        if (client.RepliesOff || client.SkipNextReply || context.Writer.Suppressed)
        {
            // CLIENT REPLY OFF/SKIP: this command's reply is dropped (a SKIP lasts one command).
            context.Writer.Suppressed = client.RepliesOff || client.SkipNextReply;
            client.SkipNextReply = false;
        }

        ReadOnlySpan<byte> name = context.Argument(0);
        if (!server.Commands.TryGet(name, out CommandDefinition? command))
        {
            if (Ascii.EqualsIgnoreCase(name, "POST"u8) || Ascii.EqualsIgnoreCase(name, "HOST:"u8))
            {
                // Cross-protocol scripting: a browser talking HTTP to us. Redis closes without a reply.
                throw new RespProtocolException("Possible SECURITY ATTACK detected: POST or Host: command on the RESP port", replyBeforeClose: false);
            }

            client.Transaction?.Abort();
            return context.Error(UnknownCommandMessage(context));
        }

        context.Command = command;
        if (!command.AcceptsArgumentCount(context.ArgumentCount))
        {
            command.Stats.RecordRejected();
            client.Transaction?.Abort();
            return context.WrongArgumentCount(command.LowerName);
        }

        if (server.RequiresAuth && !client.Authenticated && (command.Flags & CommandFlags.NoAuth) == 0)
        {
            command.Stats.RecordRejected();
            client.Transaction?.Abort();
            return context.Error(RespErrors.NoAuth);
        }

        if (client.User is { Deleted: true })
        {
            // Its user was deleted (ACL DELUSER or LOAD, here or on another node) while the connection raced the close.
            context.CloseAfterReply = true;
            return context.Error("ERR this connection's user was deleted");
        }

        if (client.User is { State.Unrestricted: false } user && DeniedByAcl(context, command, user) is { } denial)
        {
            command.Stats.RecordRejected();
            client.Transaction?.Abort();
            return context.Error(denial.Error);
        }

        if (!client.IsScript && server.ScriptIsBusy && !ScriptCommands.AllowedWhileBusy(command, context))
        {
            return AnswerBusy(context, command);
        }

        if (client.InSubscribedMode && !PubSubCommands.AllowedWhileSubscribed(command))
        {
            command.Stats.RecordRejected();
            return context.Error($"ERR Can't execute '{command.LowerName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context");
        }

        if (server.Memory.Enabled && !client.IsForwarded && !client.IsScript && !client.InExec)
        {
            return RunWithinMemoryLimitAsync(context, command);
        }

        return QueueOrRun(context, command);
    }

    /// <summary>
    /// Before a command while <c>maxmemory</c> is set, as redis-server: evicts what the policy allows, and if the node is
    /// still over the limit refuses a command that may add memory with OOM (EXEC with EXECABORT, discarding the
    /// transaction; a command refused inside MULTI makes its EXEC fail).
    /// </summary>
    private static async ValueTask RunWithinMemoryLimitAsync(CommandContext context, CommandDefinition command)
    {
        ClientSession client = context.Client;
        bool underLimit = await Memory.KeyEvictor.FreeMemoryAsync(context.Server, client.Closed);
        if (client.Outbox is { } outbox && !context.Writer.Suppressed)
        {
            // The invalidations of keys evicted for this command go out before its reply.
            outbox.WriteTo(context.Writer);
        }

        if (!underLimit && Memory.OutOfMemoryRule.Refuses(context, command))
        {
            command.Stats.RecordRejected();
            if (command.LowerName == "exec" && client.Transaction is not null)
            {
                client.Transaction = null;
                client.Watched = null;
                await context.Error("EXECABORT Transaction discarded because of: " + Memory.OutOfMemoryRule.Error);
                return;
            }

            client.Transaction?.Abort();
            await context.Error(Memory.OutOfMemoryRule.Error);
            return;
        }

        await QueueOrRun(context, command);
    }

    private static ValueTask QueueOrRun(CommandContext context, CommandDefinition command)
    {
        RespServer server = context.Server;
        ClientSession client = context.Client;
        if (client.Transaction is { } transaction && !TransactionCommands.RunsImmediatelyInMulti(command))
        {
            if ((command.Flags & CommandFlags.NoMulti) != 0)
            {
                command.Stats.RecordRejected();
                transaction.Abort();
                return context.Error("ERR Command not allowed inside a transaction");
            }

            if (Memory.OutOfMemoryRule.MayAddMemory(context, command))
            {
                transaction.MayAddMemory = true;
            }

            if (!transaction.TryQueue(context.Request))
            {
                return context.Error($"ERR MULTI queue is full (at most {QueuedTransaction.MaxCommands} commands and {transaction.MaxBytes} bytes); transaction discarded at EXEC");
            }

            context.Writer.WriteRaw("+QUEUED\r\n"u8);
            return ValueTask.CompletedTask;
        }

        client.CommandsProcessed++;
        client.LastCommand = command.LowerName;
        if (server.Memory.TracksAccess && (command.FirstKey > 0 || command.KeyCountAt > 0) && command.LowerName != "object")
        {
            RecordUse(context, command);
        }

        if (server.Monitors.Active && !client.IsForwarded && !client.IsMonitor && (command.Flags & CommandFlags.Admin) == 0)
        {
            server.Monitors.Feed(client, context.Request, server.NowUnixMicroseconds, server.PubSub.Limit, redactArguments: command.LowerName is "auth" or "hello");
        }

        if (command.LowerName == "exec" && client.Transaction is { } queued && ForwardedTransactions.ForwardingKeyOf(context, queued) is { } transactionKey)
        {
            // A cluster node that is not a primary of the transaction's slot: a primary runs it whole, one transaction on
            // every replica, without this node's gate.
            return ForwardedTransactions.ForwardAsync(context, transactionKey);
        }

        if ((command.Flags & CommandFlags.Write) != 0 && !client.IsForwarded && SingleKeyIndex(command, context.ArgumentCount) is int keyIndex
            && server.Store.ForwardsWritesOf(context.Argument(keyIndex)))
        {
            // A cluster node that is not a primary of the key: a primary runs the whole command (a counter's, hash's or
            // set's change is built from a primary's state), and its reply goes to the client as it is.
            return ForwardAsync(context, keyIndex);
        }

        if (client.CachingNext is { } caching && command.LowerName != "client")
        {
            // CLIENT CACHING YES/NO speaks for the one command after it (CLIENT commands aside, as in redis-server); a
            // transaction's commands all follow it, from MULTI through EXEC, whose run clears it when it ends.
            if (client.TrackingBatch is null && command.LowerName is not ("exec" or "multi"))
            {
                client.CachingNext = null;
            }

            if (server.Tracking.Active)
            {
                return RunTrackedAsync(context, command, caching);
            }
        }

        if (server.Tracking.Active && (command.FirstKey > 0 || command.KeyCountAt > 0 || command.LowerName is "flushall" or "flushdb" || GathersInvalidations(command)))
        {
            return RunTrackedAsync(context, command, caching: null);
        }

        return RunAnnounced(context, command);
    }

    /// <summary>
    /// Records a use of each key the command names, for the lru and lfu eviction policies (OBJECT, which reports a key's
    /// use, is no use of it). An overgrown clock is swept in the background.
    /// </summary>
    private static void RecordUse(CommandContext context, CommandDefinition command)
    {
        RespServer server = context.Server;
        Memory.KeyAccessClock clock = server.Memory.Access;
        long now = server.NowUnixMs;
        foreach (byte[] key in command.KeysOf(new ArgumentsOnDemand(context)))
        {
            clock.Touch(key, now);
        }

        if (clock.IsOvergrown(server.Store.KeyCount))
        {
            _ = Task.Run(() => clock.SweepIfOvergrownAsync(server.Store, CancellationToken.None).AsTask());
        }
    }

    /// <summary>As redis-server while a script runs past lua-time-limit: only what can end it, or leave, is served.</summary>
    internal static ValueTask AnswerBusy(CommandContext context, CommandDefinition command)
    {
        const string busy = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
        ClientSession client = context.Client;
        command.Stats.RecordRejected();
        if (command.LowerName == "exec" && client.Transaction is not null)
        {
            client.Transaction = null;
            client.Watched = null;
            return context.Error("EXECABORT Transaction discarded because of: " + busy);
        }

        client.Transaction?.Abort();
        return context.Error(busy);
    }

    private static ValueTask RunAnnounced(CommandContext context, CommandDefinition command) =>
        context.Server.Keyspace.Enabled && PubSub.KeyspaceEventTable.For(command.LowerName) is { } keyspaceEvent
            ? RunAndNotifyAsync(context, command, keyspaceEvent)
            : Run(context, command);

    /// <summary>
    /// Runs a command while clients track keys (CLIENT TRACKING): a read by a tracking client is remembered before it
    /// reads, so any write after it is announced to it; a write's keys are announced after it ran (whatever its reply:
    /// an extra invalidation costs a client a cache miss, a missing one a stale value); FLUSHALL and FLUSHDB announce
    /// that everything changed.
    /// </summary>
    private static async ValueTask RunTrackedAsync(CommandContext context, CommandDefinition command, bool? caching)
    {
        ClientSession client = context.Client;
        Tracking.KeyTracker tracker = context.Server.Tracking;
        if (GathersInvalidations(command))
        {
            // A transaction or a script announces what all its commands changed together, once it is done (as
            // redis-server does at the end of the command), so a BCAST client gets one message per prefix.
            if (client.TrackingBatch is not null)
            {
                await RunAnnounced(context, command);
                return;
            }

            client.TrackingBatch = [];
            try
            {
                await RunAnnounced(context, command);
            }
            finally
            {
                List<byte[]> changed = client.TrackingBatch;
                client.TrackingBatch = null;
                if (command.LowerName == "exec")
                {
                    client.CachingNext = null;
                }

                tracker.Invalidate(changed, client);
            }

            return;
        }

        bool write = (command.Flags & CommandFlags.Write) != 0;
        // Keys where FirstKey says, or after a count (LMPOP, ZUNION, SINTERCARD...): KeysOf reads both.
        byte[][] keys = command.FirstKey > 0 || command.KeyCountAt > 0 ? [.. command.KeysOf(new ArgumentsOnDemand(context))] : [];
        bool tracksRead = !write && keys.Length > 0 && (command.Flags & CommandFlags.ReadOnly) != 0 && client.Tracking is { } settings && settings.TracksReads(caching);
        if (tracksRead)
        {
            tracker.RecordReads(client, keys);
        }

        try
        {
            await RunAnnounced(context, command);
        }
        finally
        {
            if (tracksRead)
            {
                // Again after the read: a write that landed between the first record and the read took the key out of the
                // table, and the value read may be that write's. Remembered twice costs at most one extra invalidation.
                tracker.RecordReads(client, keys);
            }

            // Also when the command failed part-way (a storage error after some keys changed): announcing costs a miss.
            if (command.LowerName is "flushall" or "flushdb")
            {
                tracker.InvalidateAll();
            }
            else if (write && keys.Length > 0)
            {
                // A script's write is its caller's (NOLOOP), and both gather theirs while a transaction or script runs.
                ClientSession owner = client.ScriptCaller ?? client;
                if (owner.TrackingBatch is { } batch)
                {
                    batch.AddRange(keys);
                }
                else
                {
                    tracker.Invalidate(keys, owner);
                }
            }
        }
    }

    /// <summary>EXEC and the script commands: their commands' invalidations go out together when they end.</summary>
    private static bool GathersInvalidations(CommandDefinition command) =>
        command.LowerName is "exec" or "eval" or "evalsha" or "eval_ro" or "evalsha_ro" or "fcall" or "fcall_ro";

    /// <summary>
    /// What the client's user may not use of this command, its keys and its channels (logged in ACL LOG); null when
    /// it may run it.
    /// </summary>
    private static Acl.AclDenial? DeniedByAcl(CommandContext context, CommandDefinition command, Acl.AclUser user)
    {
        var arguments = new byte[context.ArgumentCount][];
        for (int i = 0; i < arguments.Length; i++)
        {
            arguments[i] = context.OwnedArgument(i);
        }

        if (Acl.AclCheck.Check(user.State, command, arguments) is not { } denial)
        {
            return null;
        }

        RespServer server = context.Server;
        server.Acl.Log.Add(denial.Reason, ConnectionCommands.AclContext(context.Client), denial.Object, user.Name,
            ConnectionCommands.DescribeClient(context, context.Client).TrimEnd('\n'), server.NowUnixMs);
        return denial;
    }

    /// <summary>
    /// Runs a command whose changes are announced (keyspace notifications are on), then announces them. With the
    /// <c>n</c> class on, a write first reads whether its keys exist, and a key it created is announced <c>new</c> before
    /// the command's own event, as redis-server announces it (an extra read per key, which is why <c>A</c> leaves it out).
    /// </summary>
    private static async ValueTask RunAndNotifyAsync(CommandContext context, CommandDefinition command, PubSub.KeyspaceEvent keyspaceEvent)
    {
        PubSub.KeyspaceNotifier notifier = context.Server.Keyspace;
        byte[][]? absentBefore = (command.Flags & CommandFlags.Write) != 0 && notifier.Wants(PubSub.KeyspaceEventClasses.New)
            ? await AbsentKeysAsync(context, ChangedKeys(context, command, keyspaceEvent))
            : null;
        context.Writer.BeginReply();
        await Run(context, command);
        RespWriter writer = context.Writer;
        bool changed = writer.FirstReply != ReplyStart.Error && keyspaceEvent.Condition switch
        {
            PubSub.KeyspaceEventCondition.Positive => writer.FirstReply == ReplyStart.Number && writer.FirstInteger > 0,
            PubSub.KeyspaceEventCondition.NotNull => writer.FirstReply != ReplyStart.Null,
            PubSub.KeyspaceEventCondition.NonEmpty => writer.FirstReply == ReplyStart.Array && writer.FirstInteger > 0,
            _ => true,
        };
        if (!changed || command.FirstKey <= 0 || command.FirstKey >= context.ArgumentCount)
        {
            return;
        }

        foreach (byte[] key in absentBefore ?? [])
        {
            if (await ExistsAsync(context, key) == true)
            {
                notifier.Notify(PubSub.KeyspaceEventClasses.New, "new", key);
            }
        }

        if (keyspaceEvent.SecondKeyEvent is { } second)
        {
            if (keyspaceEvent.FirstKeyEvent is { } first)
            {
                notifier.Notify(keyspaceEvent.Class, first, context.OwnedArgument(command.FirstKey));
            }

            notifier.Notify(keyspaceEvent.Class, second, context.OwnedArgument(command.FirstKey + 1));
            return;
        }

        foreach (byte[] key in ChangedKeys(context, command, keyspaceEvent))
        {
            notifier.Notify(keyspaceEvent.Class, keyspaceEvent.FirstKeyEvent!, key);
        }
    }

    /// <summary>
    /// The keys a command's event announces: every key it names (MSET, DEL of several keys), or its destination only
    /// (<see cref="PubSub.KeyspaceEvent.DestinationOnly"/>), or its first two for an event per key (RENAME, SMOVE, COPY).
    /// </summary>
    private static IEnumerable<byte[]> ChangedKeys(CommandContext context, CommandDefinition command, PubSub.KeyspaceEvent keyspaceEvent)
    {
        if (command.FirstKey <= 0 || command.FirstKey >= context.ArgumentCount)
        {
            return [];
        }

        return keyspaceEvent.SecondKeyEvent is not null ? command.KeysOf(new ArgumentsOnDemand(context)).Take(2)
            : keyspaceEvent.DestinationOnly ? [context.OwnedArgument(command.FirstKey)]
            : command.KeysOf(new ArgumentsOnDemand(context));
    }

    /// <summary>The keys among <paramref name="keys"/> that do not exist before the write runs (a key that cannot be read is left out).</summary>
    private static async ValueTask<byte[][]> AbsentKeysAsync(CommandContext context, IEnumerable<byte[]> keys)
    {
        var absent = new List<byte[]>();
        foreach (byte[] key in keys)
        {
            if (await ExistsAsync(context, key) == false && !absent.Any(k => k.AsSpan().SequenceEqual(key)))
            {
                absent.Add(key);
            }
        }

        return [.. absent];
    }

    /// <summary>Whether <paramref name="key"/> exists at the connection's read consistency; null when it cannot be read.</summary>
    private static async ValueTask<bool?> ExistsAsync(CommandContext context, byte[] key)
    {
        try
        {
            return (await context.Store.ReadAsync(key, context.Client.Consistency)).Found;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Whatever stops the read (a quorum, a storage error, shutdown): no "new" event, and the command's own
            // outcome stands, since this read may come after it applied.
            return null;
        }
    }

    /// <summary>
    /// Runs the handler and times it for the metrics (per family) and INFO commandstats (per command), noting whether
    /// its reply began with an error (a failed call).
    /// </summary>
    /// <summary>The longest a write waits for the clients it woke (<see cref="WaitForUnblockedClientsAsync"/>).</summary>
    private static readonly TimeSpan UnblockedClientsWait = TimeSpan.FromSeconds(1);

    private static ValueTask Run(CommandContext context, CommandDefinition command)
    {
        long started = Stopwatch.GetTimestamp();
        context.Writer.BeginReply();
        ValueTask run = GatedHandler.Invoke(context, command);
        if (!run.IsCompleted)
        {
            // A write still running (a cluster's quorum) while clients are blocked may wake them: it answers after them.
            ValueTask pending = (command.Flags & CommandFlags.Write) != 0 && context.Server.BlockedClients.IsListening && !context.Client.InExec && !context.Client.IsScript
                ? ThenWaitForUnblockedClientsAsync(run, context.Server.BlockedClients)
                : run;
            if (context.TimedByWindow)
            {
                context.DeferTiming(command, started);
                return pending;
            }

            return TimeWhenDoneAsync(pending, context, command, started);
        }

        Done(context, command, started);
        if ((command.Flags & CommandFlags.Write) != 0 && context.Server.BlockedClients.HasWakesInFlight && !context.Client.InExec && !context.Client.IsScript)
        {
            return WaitForUnblockedClientsAsync(context.Server.BlockedClients);
        }

        return run;
    }

    /// <summary>
    /// A write that woke blocked clients answers once they have tried (BLPOP served before the writer's next command, as
    /// in Redis); bounded, since a wake-up is only a hint.
    /// </summary>
    private static async ValueTask WaitForUnblockedClientsAsync(Blocking.BlockedClients blocked)
    {
        try
        {
            await blocked.WhenSettledAsync().WaitAsync(UnblockedClientsWait);
        }
        catch (TimeoutException)
        {
        }
    }

    private static async ValueTask ThenWaitForUnblockedClientsAsync(ValueTask run, Blocking.BlockedClients blocked)
    {
        await run;
        if (blocked.HasWakesInFlight)
        {
            await WaitForUnblockedClientsAsync(blocked);
        }
    }

    /// <summary>Records a finished command's time and outcome.</summary>
    internal static void Done(CommandContext context, CommandDefinition command, long started)
    {
        command.Stats.RecordCall(started, context.Writer.FirstReply == ReplyStart.Error);
        if (context.Server.Metrics is { Enabled: true } metrics)
        {
            metrics.CommandDone(command.Family, started);
        }
    }

    /// <summary>A command waiting for storage (a cluster quorum) outside a pipeline window (in EXEC) is timed when it
    /// completes; the pooling builder keeps that allocation-free while its pool lasts.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask TimeWhenDoneAsync(ValueTask run, CommandContext context, CommandDefinition command, long started)
    {
        try
        {
            await run;
        }
        finally
        {
            Done(context, command, started);
        }
    }

    /// <summary>The argument index of the command's one key; null when it names none or several.</summary>
    private static int? SingleKeyIndex(CommandDefinition command, int argumentCount)
    {
        if (command.FirstKey <= 0 || command.FirstKey >= argumentCount)
        {
            return null;
        }

        int last = command.LastKey < 0 ? argumentCount + command.LastKey : command.LastKey;
        return last == command.FirstKey || (command.KeyStep > 0 && last - command.FirstKey < command.KeyStep) ? command.FirstKey : null;
    }

    private static async ValueTask ForwardAsync(CommandContext context, int keyIndex)
    {
        var arguments = new byte[context.ArgumentCount][];
        for (int i = 0; i < arguments.Length; i++)
        {
            arguments[i] = context.OwnedArgument(i);
        }

        try
        {
            byte[] reply = await context.Store.ForwardCommandAsync(arguments[keyIndex], arguments, context.Client.ProtocolVersion, context.Client.Consistency);
            context.Writer.WriteRaw(reply);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            context.Writer.WriteError(CommandContext.StorageFailure(exception));
        }
    }

    /// <summary>redis-server's text: the name and the first arguments, each quoted, within 128 characters.</summary>
    private static string UnknownCommandMessage(CommandContext context)
    {
        var arguments = new StringBuilder();
        for (int i = 1; i < context.ArgumentCount && arguments.Length < 128; i++)
        {
            string argument = Encoding.UTF8.GetString(context.Argument(i));
            int room = 128 - arguments.Length;
            arguments.Append('\'').Append(argument.Length > room ? argument[..room] : argument).Append("' ");
        }

        string name = Encoding.UTF8.GetString(context.Argument(0));
        if (name.Length > 128)
        {
            name = name[..128];
        }

        return $"ERR unknown command '{name}', with args beginning with: {arguments}";
    }

    /// <summary>A request's arguments copied only when read, so finding a command's keys does not copy its values.</summary>
    private sealed class ArgumentsOnDemand(CommandContext context) : IReadOnlyList<byte[]>
    {
        public int Count => context.ArgumentCount;

        public byte[] this[int index] => context.Argument(index).ToArray();

        public IEnumerator<byte[]> GetEnumerator()
        {
            for (int i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
