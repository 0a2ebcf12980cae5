using System.Globalization;
using System.Text;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// EXEC on a cluster node that is not a primary of the transaction's slot: a primary runs the whole transaction, so its
/// writes are one transaction on every replica there (a primary stages them and commits them in one replica message each),
/// and this node only relays. The queued commands travel as one <c>DYN.EXEC</c> command
/// (<c>DYN.EXEC w key1 fingerprint1 ... count n1 args1... n2 args2...</c>, the watched keys with what WATCH read of them,
/// then the queue) to the first reachable primary, to a second only when it could not be sent to the first
/// (<see cref="IKeyValueStore.ForwardTransactionAsync"/>);
/// the primary checks the watched keys and runs the queue under its own isolation gate, alone among its clients, and its
/// reply (EXEC's array, or null) goes to the client as it is. This node does not hold its gate meanwhile (two nodes
/// forwarding to each other must not wait on each other). Only a transaction of plain key
/// commands is forwarded: one with a keyless command (a CLIENT, CONFIG or PING that speaks of this connection or node) or
/// a script (whose cache is per node) runs here, each command replicated on its own.
/// </summary>
internal static class ForwardedTransactions
{
    private const string NotForwarded = "ERR DYN.EXEC runs a transaction another node forwarded; clients send MULTI ... EXEC";
    private const string Malformed = "ERR DYN.EXEC: malformed transaction";

    public static CommandDefinition Definition { get; } = new(
        "DYN.EXEC", -3, CommandFlags.Write | CommandFlags.NoMulti, 0, 0, 0, "dynamo", "1.0.0",
        "Runs a transaction another cluster node forwarded to a primary of its slot (internal).", RunForwarded);

    /// <summary>
    /// The key of <paramref name="transaction"/> to forward it by, when EXEC on this node should hand it to a primary of its
    /// slot; null when it runs here (a single node, a primary of the slot, a keyless or script command among its commands,
    /// keys of several slots, which EXEC refuses, or more than one forwarded message carries).
    /// </summary>
    public static byte[]? ForwardingKeyOf(CommandContext context, QueuedTransaction transaction)
    {
        if (context.Client.IsForwarded || context.Server.Store is not IVersionedKeyValueStore || transaction.Aborted || transaction.Commands.Count == 0
            || FirstKeyOf(context, transaction.Commands[0]) is not { } first || !context.Server.Store.ForwardsWritesOf(first))
        {
            // Most EXECs on a cluster run on a primary of their slot: decided by the first key, before the others are looked at.
            return null;
        }

        var keys = new List<byte[]>();
        long arguments = 3 + (2L * (context.Client.Watched?.Count ?? 0));
        long bytes = 0;
        foreach (byte[][] command in transaction.Commands)
        {
            if (!context.Server.Commands.TryGet(command[0], out CommandDefinition? definition) || definition.Group == "scripting")
            {
                return null;
            }

            int before = keys.Count;
            keys.AddRange(definition.KeysOf(command));
            if (keys.Count == before)
            {
                return null;
            }

            arguments += 1 + command.Length;
            bytes += command.Sum(argument => (long)argument.Length);
        }

        return arguments > ForwardCommand.MaxArguments || bytes > PeerLimits.MaxObjectBytes / 2 || !HashSlot.AllInOne(keys.Concat(context.Client.Watched?.Keys ?? []))
            ? null
            : first;
    }

    /// <summary>The first key <paramref name="command"/> names; null for a keyless or unknown command.</summary>
    private static byte[]? FirstKeyOf(CommandContext context, byte[][] command) =>
        context.Server.Commands.TryGet(command[0], out CommandDefinition? definition) ? definition.KeysOf(command).FirstOrDefault() : null;

    /// <summary>EXEC, forwarded: a primary checks the watched keys (with the fingerprints WATCH read here) and runs the queue, alone.</summary>
    public static async ValueTask ForwardAsync(CommandContext context, byte[] key)
    {
        ClientSession client = context.Client;
        QueuedTransaction transaction = client.Transaction!;
        WatchedKeys? watched = client.Watched;
        client.Transaction = null;
        client.Watched = null;
        try
        {
            byte[] reply = await context.Store.ForwardTransactionAsync(key, Encode(transaction, watched), client.ProtocolVersion, client.Consistency);
            context.Writer.WriteRaw(reply);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            context.Writer.WriteError(CommandContext.StorageFailure(exception));
        }
    }

    /// <summary>DYN.EXEC w k1 fp1 ... count n1 args1... : the watched keys with their fingerprints, then the queue.</summary>
    private static byte[][] Encode(QueuedTransaction transaction, WatchedKeys? watched)
    {
        var arguments = new List<byte[]>(3 + (2 * (watched?.Count ?? 0)) + (transaction.Commands.Count * 3)) { "DYN.EXEC"u8.ToArray(), Number(watched?.Count ?? 0) };
        foreach (byte[] key in watched?.Keys ?? [])
        {
            arguments.Add(key);
            arguments.Add(Encoding.ASCII.GetBytes(watched!.FingerprintOf(key).ToString(CultureInfo.InvariantCulture)));
        }

        arguments.Add(Number(transaction.Commands.Count));
        foreach (byte[][] command in transaction.Commands)
        {
            arguments.Add(Number(command.Length));
            arguments.AddRange(command);
        }

        return [.. arguments];
    }

    private static byte[] Number(int value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>The primary's side: the watched keys are checked and the queue runs as this node's EXEC would run them (staged, one replica message each).</summary>
    private static ValueTask RunForwarded(CommandContext context)
    {
        if (!context.Client.IsForwarded)
        {
            return context.Error(NotForwarded);
        }

        if (!TryCount(context, 1, out int watchedCount) || watchedCount > WatchedKeys.MaxKeys || 2 + (2 * watchedCount) >= context.ArgumentCount)
        {
            return context.Error(Malformed);
        }

        var watched = new WatchedKeys();
        for (int i = 0; i < watchedCount; i++)
        {
            if (!ulong.TryParse(Encoding.ASCII.GetString(context.Argument(3 + (2 * i))), NumberStyles.None, CultureInfo.InvariantCulture, out ulong fingerprint))
            {
                return context.Error(Malformed);
            }

            watched.Add(context.OwnedArgument(2 + (2 * i)), fingerprint);
        }

        int countAt = 2 + (2 * watchedCount);
        var transaction = new QueuedTransaction(long.MaxValue);
        int index = countAt + 1;
        if (!TryCount(context, countAt, out int count) || count < 1)
        {
            return context.Error(Malformed);
        }

        for (int i = 0; i < count; i++)
        {
            if (!TryCount(context, index, out int length) || length < 1 || index + 1 + length > context.ArgumentCount)
            {
                return context.Error(Malformed);
            }

            if (!transaction.Add([.. Enumerable.Range(index + 1, length).Select(context.OwnedArgument)]))
            {
                return context.Error($"ERR DYN.EXEC: more than {QueuedTransaction.MaxCommands} commands");
            }

            index += 1 + length;
        }

        if (index != context.ArgumentCount)
        {
            return context.Error(Malformed);
        }

        return watched.Count > 0 ? TransactionCommands.CheckWatchedThenRunAsync(context, transaction, watched) : TransactionCommands.RunQueuedAsync(context, transaction);
    }

    private static bool TryCount(CommandContext context, int index, out int count)
    {
        count = 0;
        return index < context.ArgumentCount
            && int.TryParse(Encoding.ASCII.GetString(context.Argument(index)), NumberStyles.None, CultureInfo.InvariantCulture, out count);
    }
}
