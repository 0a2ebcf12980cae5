using System.Diagnostics;
using Dynamite.Protocols.Resp.Blocking;
using Dynamite.Protocols.Resp.Commands.SortedSetOperations;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// What the blocking commands (BLPOP, BZPOPMIN and the rest) share: they wait, up to their timeout (0: until the
/// connection closes), for something to take. The client registers on its keys (<see cref="BlockedClients"/>) before
/// its first try, and every commit that changes one of them, from any writer or node, makes it try again. Inside EXEC
/// or a script they never block: they answer at once, null when nothing was there, as redis-server does. When several
/// clients wait on one key, each retries and the operations decide who gets what (Redis serves them in the order they
/// blocked).
/// </summary>
internal static class BlockingWait
{
    /// <summary>
    /// A blocking command's timeout in seconds, as redis-server's <c>getTimeoutFromObjectOrReply</c> reads it; null
    /// with <paramref name="error"/> when it is not one. Zero is <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </summary>
    public static TimeSpan? ParseTimeout(ReadOnlySpan<byte> text, out string? error)
    {
        error = null;
        if (!SortedSetScore.TryParse(text, out double seconds) || double.IsInfinity(seconds))
        {
            error = "ERR timeout is not a float or out of range";
            return null;
        }

        double milliseconds = Math.Ceiling(seconds * 1000);
        if (milliseconds < 0)
        {
            error = "ERR timeout is negative";
            return null;
        }

        if (milliseconds > int.MaxValue)
        {
            // Task timers take at most about 24.8 days; a longer wait is no different from waiting for the connection.
            return Timeout.InfiniteTimeSpan;
        }

        return milliseconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(milliseconds);
    }

    /// <summary>
    /// Runs <paramref name="attempt"/>'s operation until it is <paramref name="served"/>, waiting for a change of
    /// <paramref name="keys"/> between tries, up to <paramref name="timeout"/>; a null array when the time runs out.
    /// WRONGTYPE on the first try is the reply; after a wait, a key that became another type is passed over (Redis
    /// serves a blocked client only from a key of its type) unless <paramref name="failsAfterWaiting"/> says the
    /// operation fails anyway (BLMOVE's destination of another type).
    /// </summary>
    public static async ValueTask BlockAsync<TOperation>(
        CommandContext context,
        byte[][] keys,
        Func<TOperation> attempt,
        Func<TOperation, bool> served,
        TimeSpan timeout,
        Action<CommandContext, TOperation> reply,
        Func<TOperation, bool>? failsAfterWaiting = null)
        where TOperation : ITypedKeyOperation
    {
        ClientSession client = context.Client;
        bool mayBlock = !client.IsScript && !client.InExec;
        using KeyWait? wait = mayBlock ? context.Server.BlockedClients.Register(keys, client.Id) : null;
        long started = Stopwatch.GetTimestamp();
        for (bool first = true; ; first = false)
        {
            TOperation pop = attempt();
            try
            {
                await context.Store.ExecuteAsync(pop, client.Consistency);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                context.Writer.WriteError(CommandContext.StorageFailure(exception));
                return;
            }

            if (pop.WrongType && (first || (failsAfterWaiting?.Invoke(pop) ?? false)))
            {
                context.Writer.WriteError(RespErrors.WrongType);
                return;
            }

            // A key that became another type while the client waited is passed over, as Redis serves only its own type.
            if (!pop.WrongType && served(pop))
            {
                reply(context, pop);
                return;
            }

            if (!first)
            {
                // This client's turn is over: the next one blocked on the keys tries.
                wait?.PassOn();
            }
            else
            {
                wait?.MarkBlocked();
            }

            TimeSpan remaining = timeout == Timeout.InfiniteTimeSpan ? timeout : timeout - Stopwatch.GetElapsedTime(started);
            if (wait is null || (timeout != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero))
            {
                context.Writer.WriteNullArray();
                return;
            }

            // Blocked, the command must not keep a transaction or script out: it lets go of the gate until it tries again.
            bool heldGate = GatedHandler.LeaveShared(context);
            try
            {
                bool changed = await wait.WaitAsync(remaining, client.Closed);
                if (heldGate && !await GatedHandler.ReenterSharedAsync(context))
                {
                    await GatedHandler.GaveUp(context, context.Command);
                    return;
                }

                if (wait.UnblockedWithError is { } withError)
                {
                    // CLIENT UNBLOCK: as a timeout, or with Redis's error.
                    if (withError)
                    {
                        context.Writer.WriteError("UNBLOCKED client unblocked via CLIENT UNBLOCK");
                    }
                    else
                    {
                        context.Writer.WriteNullArray();
                    }

                    return;
                }

                if (!changed)
                {
                    context.Writer.WriteNullArray();
                    return;
                }
            }
            catch (OperationCanceledException) when (client.Closed.IsCancellationRequested)
            {
                // The connection closed while blocked: nobody reads a reply.
                return;
            }
        }
    }
}
