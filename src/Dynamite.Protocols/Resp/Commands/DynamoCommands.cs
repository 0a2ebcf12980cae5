using System.Globalization;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Quorum;
using Dynamite.Core.Versioning;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// Dynamo's own API on RESP, for applications that resolve conflicts themselves (§4.1): DGET returns the
/// context and every concurrent value, DSET and DDEL supersede exactly what a context saw. Plus the
/// node-local views (DYN.LOCALGET, DYN.LOCALDBSIZE) and the per-connection consistency (DYN.CONSISTENCY).
/// The context is an opaque string to the client (<see cref="ContextToken"/>).
/// </summary>
internal static class DynamoCommands
{
    private const CommandFlags ReadFlags = CommandFlags.ReadOnly | CommandFlags.Fast;
    private const string NotClustered = "ERR this command needs a cluster node (start dynamite with --seeds)";
    private const string BadContext = "ERR invalid context: pass the context DGET returned, or an empty string for none";

    public static readonly CommandDefinition[] Definitions =
    [
        new("DGET", 2, ReadFlags, 1, 1, 1, "dynamo", "1.0.0", "Returns the context and every concurrent value of a key (Dynamo get).", DGet),
        new("DSET", 4, CommandFlags.Write, 1, 1, 1, "dynamo", "1.0.0", "Writes a value superseding exactly what the context saw (Dynamo put).", DSet),
        new("DDEL", 3, CommandFlags.Write, 1, 1, 1, "dynamo", "1.0.0", "Deletes a key superseding exactly what the context saw.", DDel),
        new("DYN.LOCALGET", 2, ReadFlags, 1, 1, 1, "dynamo", "1.0.0", "Returns this node's own copy of a key, without coordination.", LocalGet),
        new("DYN.LOCALDBSIZE", 1, ReadFlags, 0, 0, 0, "dynamo", "1.0.0", "Returns the number of keys stored on this node.", LocalDbSize),
        new("DYN.CONSISTENCY", -1, CommandFlags.Fast, 0, 0, 0, "dynamo", "1.0.0", "Gets or sets this connection's read/write quorums: <r> <w>, DC_ONE, DC_QUORUM, DC_SAFE_QUORUM or DEFAULT.", Consistency),
    ];

    private static ValueTask DGet(CommandContext context)
    {
        if (context.Store is not IVersionedKeyValueStore versioned)
        {
            return context.Error(NotClustered);
        }

        ValueTask<VersionedObject> pending;
        try
        {
            pending = versioned.GetVersionedAsync(context.ArgumentMemory(1), context.Client.Consistency);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return context.Error(CommandContext.StorageFailure(exception));
        }

        return pending.IsCompletedSuccessfully ? WriteVersioned(context, pending.Result) : AwaitGetAsync(context, pending);
    }

    private static async ValueTask AwaitGetAsync(CommandContext context, ValueTask<VersionedObject> pending)
    {
        VersionedObject merged;
        try
        {
            merged = await pending;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The same replies as every other command: a quorum failure keeps its code, a shutdown says so.
            context.Writer.WriteError(CommandContext.StorageFailure(exception));
            return;
        }

        await WriteVersioned(context, merged);
    }

    /// <summary>[context, value1, value2, ...]: the live values only (deleted or expired siblings are left out).</summary>
    private static ValueTask WriteVersioned(CommandContext context, VersionedObject merged)
    {
        long now = context.Store.NowUnixMs;
        int live = 0;
        foreach (Sibling sibling in merged.Siblings)
        {
            live += !sibling.IsTombstone && !sibling.IsExpiredAt(now) ? 1 : 0;
        }

        context.Writer.WriteArrayHeader(1 + live);
        context.Writer.WriteBulk(ContextToken.Encode(merged.Context));
        foreach (Sibling sibling in merged.Siblings)
        {
            if (!sibling.IsTombstone && !sibling.IsExpiredAt(now))
            {
                context.Writer.WriteBulk(sibling.Value);
            }
        }

        return ValueTask.CompletedTask;
    }

    private static ValueTask DSet(CommandContext context)
    {
        if (context.Argument(3).Length > context.Server.Options.Limits.MaxValueBytes)
        {
            return context.Error(RespErrors.ValueTooLarge);
        }

        return Put(context, context.OwnedArgument(3));
    }

    private static ValueTask DDel(CommandContext context) => Put(context, value: null);

    private static ValueTask Put(CommandContext context, byte[]? value)
    {
        if (context.Store is not IVersionedKeyValueStore versioned)
        {
            return context.Error(NotClustered);
        }

        VersionVector clientContext = VersionVector.Empty;
        if (context.Argument(2).Length > 0 && !ContextToken.TryParse(context.ArgumentString(2), out clientContext))
        {
            return context.Error(BadContext);
        }

        return AwaitPutAsync(context, versioned.PutVersionedAsync(context.OwnedArgument(1), clientContext, value, context.Client.Consistency));
    }

    private static async ValueTask AwaitPutAsync(CommandContext context, ValueTask pending)
    {
        try
        {
            await pending;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The same replies as every other command: a quorum failure keeps its code, a shutdown says so.
            context.Writer.WriteError(CommandContext.StorageFailure(exception));
            return;
        }

        context.Writer.WriteOk();
    }

    private static ValueTask LocalGet(CommandContext context)
    {
        if (context.Store is not IVersionedKeyValueStore versioned)
        {
            // A standalone node's own copy is all there is.
            return context.ReadKeys(1, 1, 1, static (c, results) =>
            {
                if (results[0].Found)
                {
                    c.Writer.WriteBulk(results[0].Record.Value);
                }
                else
                {
                    c.Writer.WriteNull();
                }
            });
        }

        VersionedObject? local = versioned.ReadLocal(context.Argument(1));
        Sibling? winner = local?.ResolveLastWriterWins();
        if (winner is null || winner.IsTombstone || winner.IsExpiredAt(context.Store.NowUnixMs))
        {
            context.Writer.WriteNull();
        }
        else
        {
            context.Writer.WriteBulk(winner.Value);
        }

        return ValueTask.CompletedTask;
    }

    private static ValueTask LocalDbSize(CommandContext context)
    {
        context.Writer.WriteInteger(context.Store is IVersionedKeyValueStore versioned ? versioned.LocalKeyCount : context.Store.KeyCount);
        return ValueTask.CompletedTask;
    }

    private static ValueTask Consistency(CommandContext context)
    {
        if (context.ArgumentCount == 1)
        {
            context.Writer.WriteBulk((context.Client.Consistency ?? ConsistencyLevel.Default).Name);
            return ValueTask.CompletedTask;
        }

        int n = context.Store is IVersionedKeyValueStore versioned ? versioned.ReplicationFactor : 1;
        if (context.ArgumentCount == 2)
        {
            if (!ConsistencyLevel.TryParseName(context.ArgumentString(1), out ConsistencyLevel level))
            {
                return context.Error("ERR unknown consistency level: use <r> <w>, DC_ONE, DC_QUORUM, DC_SAFE_QUORUM or DEFAULT");
            }

            context.Client.Consistency = level == ConsistencyLevel.Default ? null : level;
            context.Writer.WriteOk();
            return ValueTask.CompletedTask;
        }

        if (context.ArgumentCount != 3
            || !RespNumbers.TryParseInt64(context.Argument(1), out long r)
            || !RespNumbers.TryParseInt64(context.Argument(2), out long w))
        {
            return context.Error("ERR syntax: DYN.CONSISTENCY <r> <w> | DC_ONE | DC_QUORUM | DC_SAFE_QUORUM | DEFAULT");
        }

        if (r < 1 || w < 1 || r > n || w > n)
        {
            return context.Error(string.Create(CultureInfo.InvariantCulture, $"ERR r and w must be between 1 and N={n}"));
        }

        context.Client.Consistency = ConsistencyLevel.Explicit((int)r, (int)w);
        context.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }
}
