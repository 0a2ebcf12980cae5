namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// SAVE, BGSAVE, LASTSAVE and SHUTDOWN, as their redis-server counterparts mean them for a node whose engine writes
/// continuously: SAVE makes every write this node acknowledged durable now (the engine's fsync, whatever
/// <c>--fsync</c> says), BGSAVE does that in the background, LASTSAVE says when it last did, and SHUTDOWN makes the
/// writes durable (unless NOSAVE) and stops the node as SIGTERM does: on a cluster the node stops, it does not leave
/// (<c>dynamite leave</c> does). The node supplies both actions (<see cref="RespServerOptions.Save"/>,
/// <see cref="RespServerOptions.Shutdown"/>); without them the commands are refused before anything happens.
/// </summary>
internal static class PersistenceCommands
{
    private const CommandFlags PersistenceFlags = CommandFlags.Admin | CommandFlags.NoMulti;

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("SAVE", 1, PersistenceFlags, 0, 0, 0, "server", "1.0.0", "Synchronously saves the database(s) to disk.", Save),
        new("BGSAVE", -1, CommandFlags.Admin, 0, 0, 0, "server", "1.0.0", "Asynchronously saves the database(s) to disk.", BackgroundSave),
        new("LASTSAVE", 1, CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, "server", "1.0.0", "Returns the Unix timestamp of the last successful save to disk.", LastSave),
        new("SHUTDOWN", -1, PersistenceFlags | CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, "server", "1.0.0", "Synchronously saves the database(s) to disk and shuts down the Redis server.", Shutdown),
    ];

    private static async ValueTask Save(CommandContext context)
    {
        if (context.Server.Options.Save is not { } save)
        {
            context.Writer.WriteError("ERR this node has no storage to save");
            return;
        }

        try
        {
            await save(CancellationToken.None);
            context.Server.LastSaveUnixSeconds = context.Server.NowUnixMs / 1000;
            context.Writer.WriteOk();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            context.Writer.WriteError(CommandContext.StorageFailure(exception));
        }
    }

    private static ValueTask BackgroundSave(CommandContext context)
    {
        if (context.ArgumentCount > 2 || (context.ArgumentCount == 2 && !context.ArgumentIs(1, "SCHEDULE")))
        {
            return context.SyntaxError();
        }

        if (context.Server.Options.Save is not { } save)
        {
            return context.Error("ERR this node has no storage to save");
        }

        RespServer server = context.Server;
        _ = Task.Run(async () =>
        {
            await save(CancellationToken.None);
            server.LastSaveUnixSeconds = server.NowUnixMs / 1000;
        });
        context.Writer.WriteSimpleString("Background saving started");
        return ValueTask.CompletedTask;
    }

    private static ValueTask LastSave(CommandContext context)
    {
        context.Writer.WriteInteger(context.Server.LastSaveUnixSeconds);
        return ValueTask.CompletedTask;
    }

    private static async ValueTask Shutdown(CommandContext context)
    {
        bool save = true;
        for (int i = 1; i < context.ArgumentCount; i++)
        {
            if (context.ArgumentIs(i, "NOSAVE"))
            {
                save = false;
            }
            else if (context.ArgumentIs(i, "ABORT"))
            {
                context.Writer.WriteError("ERR No shutdown in progress.");
                return;
            }
            else if (!context.ArgumentIs(i, "SAVE") && !context.ArgumentIs(i, "NOW") && !context.ArgumentIs(i, "FORCE"))
            {
                context.Writer.WriteError(RespErrors.Syntax);
                return;
            }
        }

        if (context.Server.Options.Shutdown is not { } shutdown)
        {
            context.Writer.WriteError("ERR this node cannot be shut down from a client");
            return;
        }

        if (save && context.Server.Options.Save is { } flush)
        {
            try
            {
                await flush(CancellationToken.None);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                context.Writer.WriteError("ERR Errors trying to SHUTDOWN. Check logs. " + exception.Message);
                return;
            }
        }

        // As redis-server: no reply, the connection closes, and the node stops.
        context.CloseAfterReply = true;
        shutdown();
    }
}
