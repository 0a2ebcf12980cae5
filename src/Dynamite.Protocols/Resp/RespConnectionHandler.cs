using System.Buffers;
using System.IO.Pipelines;
using Dynamite.Protocols.Resp.Commands;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// Serves one RESP connection: parse every complete request in the input buffer, run each, write the replies
/// in request order, advance the input once and flush once per batch (PERFORMANCE.md: "one flush per read batch").
/// A command that waits for storage (a cluster quorum) does not hold up later keyed commands on other keys:
/// <see cref="PipelineWindow"/> runs them alongside it. Every command of a batch completes before the input
/// is advanced, so argument slices stay valid across an await.
/// On shutdown the pending read is cancelled: the batch in flight completes and is flushed, then the
/// connection closes.
/// </summary>
public sealed class RespConnectionHandler(RespServer server, ILogger<RespConnectionHandler> logger) : ConnectionHandler
{
    /// <summary>Flush mid-batch once this much output is buffered, so a pipelined client gets back-pressure.</summary>
    private const int FlushThresholdBytes = 64 * 1024;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        long now = server.NowUnixMs;
        var client = new ClientSession(
            server.Clients.NextId(),
            connection.RemoteEndPoint?.ToString() ?? "?",
            connection.LocalEndPoint?.ToString() ?? "?",
            now)
        {
            UsesTls = connection.Features.Get<Microsoft.AspNetCore.Http.Features.ITlsConnectionFeature>() is not null,
        };
        var writer = new RespWriter();
        writer.Attach(connection.Transport.Output);
        if (server.ProtectedMode && !server.RequiresAuth && !IsLoopback(connection.RemoteEndPoint)
            && connection.Features.Get<Microsoft.AspNetCore.Http.Features.ITlsConnectionFeature>()?.ClientCertificate is null)
        {
            // As redis-server: nothing of the node is reachable from outside while anyone could use it unauthenticated.
            // Debug only: anyone who can reach the port could otherwise fill the log (redis-server logs nothing).
            logger.LogDebug("Refused a client from {Address}: protected mode (no password is set and it connected from beyond loopback)", connection.RemoteEndPoint);
            writer.WriteError(RespErrors.ProtectedMode);
            await connection.Transport.Output.FlushAsync();
            return;
        }

        if (!server.Clients.TryRegister(client, server.Options.MaxClients))
        {
            writer.WriteError(RespErrors.MaxClients);
            await connection.Transport.Output.FlushAsync();
            return;
        }

        client.User = server.Acl.Default;
        client.Authenticated = !server.RequiresAuth;
        client.Abort = connection.Abort;
        client.Closed = connection.ConnectionClosed;
        PipeReader input = connection.Transport.Input;
        client.Wake = input.CancelPendingRead;
        using CancellationTokenRegistration closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?
            .ConnectionClosedRequested.Register(
                static state =>
                {
                    var (session, reader) = ((ClientSession, PipeReader))state!;
                    session.ShutdownRequested = true;
                    reader.CancelPendingRead();
                },
                (client, input)) ?? default;
        try
        {
            await ServeAsync(new CommandContext(server, client, writer), input, connection.Transport.Output);
        }
        catch (ConnectionResetException)
        {
        }
        catch (ConnectionAbortedException)
        {
        }
        catch (IOException)
        {
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Client {ClientId} ({Address}) failed; closing its connection", client.Id, client.RemoteAddress);
        }
        finally
        {
            server.PubSub.RemoveAll(client);
            server.Monitors.Remove(client);
            server.Clients.Unregister(client);
            server.Tracking.Remove(client);
        }
    }

    private async Task ServeAsync(CommandContext context, PipeReader input, PipeWriter output)
    {
        using var window = new PipelineWindow(server, context, output);
        try
        {
            await ServeAsync(window, context.Client, input, output);
        }
        finally
        {
            // Only after a failure: no command may still read the input once the connection lets it go.
            await window.AbandonAsync();
        }
    }

    private async Task ServeAsync(PipelineWindow window, ClientSession client, PipeReader input, PipeWriter output)
    {
        RespLimits limits = server.Options.Limits;
        while (true)
        {
            ReadResult result = await input.ReadAsync();
            if (result.IsCanceled)
            {
                if (client.ShutdownRequested || client.Outbox is null)
                {
                    return;
                }

                // Woken to write pushed messages (ClientOutbox): consume nothing, write them, read again.
                input.AdvanceTo(result.Buffer.Start);
                client.Outbox.WriteTo(output);
                await output.FlushAsync();
                continue;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            bool close = false;
            CommandContext context = window.Next;
            RespProtocolException? protocolError = null;
            try
            {
                while (RespRequestParser.TryParse(ref buffer, context.Request, limits, unauthenticated: !client.Authenticated))
                {
                    if (context.Request.Count == 0)
                    {
                        continue;
                    }

                    if (!window.CanStartAlongside(context.Request))
                    {
                        // Completing is awaited here, not in a helper: this loop's state machine is reused, a
                        // helper's would be allocated per command (a cluster command is pending on almost every read).
                        while (window.Count > 0)
                        {
                            CommandContext done;
                            try
                            {
                                await window.OldestPending;
                            }
                            finally
                            {
                                done = window.FinishOldest();
                            }

                            close |= done.CloseAfterReply || !await FlushIfLargeAsync(output);
                        }

                        if (close)
                        {
                            context.Request.Release();
                            break;
                        }
                    }

                    if (window.Start())
                    {
                        // Completed at once with nothing pending: today's allocation-free path.
                        context.Request.Release();
                        if (context.CloseAfterReply || !await FlushIfLargeAsync(output))
                        {
                            close = true;
                            break;
                        }
                    }
                    else if (window.IsFull)
                    {
                        CommandContext done;
                        try
                        {
                            await window.OldestPending;
                        }
                        finally
                        {
                            done = window.FinishOldest();
                        }

                        close = done.CloseAfterReply || !await FlushIfLargeAsync(output);
                        if (close)
                        {
                            break;
                        }
                    }

                    context = window.Next;
                }
            }
            catch (RespProtocolException exception)
            {
                context.Request.Release();
                protocolError = exception;
                close = true;
            }

            // The input is advanced below: every command of the batch completes first, in order.
            while (window.Count > 0)
            {
                CommandContext done;
                try
                {
                    await window.OldestPending;
                }
                finally
                {
                    done = window.FinishOldest();
                }

                close |= done.CloseAfterReply || !await FlushIfLargeAsync(output);
            }

            if (protocolError is not null)
            {
                logger.LogInformation("Closing client {ClientId} ({Address}): {Reason}", client.Id, client.RemoteAddress, protocolError.Message);
                if (protocolError.ReplyBeforeClose)
                {
                    window.Next.Writer.Attach(output);
                    window.Next.Writer.WriteError(protocolError.Message);
                }
            }

            if (!close && buffer.Length > limits.MaxQueryBufferBytes)
            {
                logger.LogWarning("Closing client {ClientId} ({Address}) that reached the query buffer limit", client.Id, client.RemoteAddress);
                close = true;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            client.QueryBufferBytes = buffer.Length;
            client.LastInteractionUnixMs = server.NowUnixMs;
            client.Outbox?.WriteTo(output);
            await output.FlushAsync();
            if (close || result.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>Flushes mid-batch once enough output is buffered; false when the client has gone.</summary>
    private static ValueTask<bool> FlushIfLargeAsync(PipeWriter output)
    {
        if (!output.CanGetUnflushedBytes || output.UnflushedBytes <= FlushThresholdBytes)
        {
            return ValueTask.FromResult(true);
        }

        return FlushAsync(output);

        static async ValueTask<bool> FlushAsync(PipeWriter output)
        {
            FlushResult flushed = await output.FlushAsync();
            return !flushed.IsCompleted && !flushed.IsCanceled;
        }
    }

    /// <summary>A loopback address, or no network peer at all (an in-process connection, as a Unix socket is local to redis-server).</summary>
    private static bool IsLoopback(System.Net.EndPoint? endpoint) =>
        endpoint is not System.Net.IPEndPoint ip || System.Net.IPAddress.IsLoopback(ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address);
}
