using System.Buffers;
using System.IO.Pipelines;
using Dynamite.Protocols.Resp.Commands;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// Serves one RESP connection: parse every complete request in the input buffer, run each (in order), write
/// the replies, advance the input once and flush once per batch (PERFORMANCE.md: "one flush per read batch").
/// The input is not advanced while a request runs, so argument slices stay valid across an await.
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
            now);
        var writer = new RespWriter();
        writer.Attach(connection.Transport.Output);
        if (!server.Clients.TryRegister(client, server.Options.MaxClients))
        {
            writer.WriteError(RespErrors.MaxClients);
            await connection.Transport.Output.FlushAsync();
            return;
        }

        client.Authenticated = !server.RequiresAuth;
        client.Abort = connection.Abort;
        PipeReader input = connection.Transport.Input;
        using CancellationTokenRegistration closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?
            .ConnectionClosedRequested.Register(static state => ((PipeReader)state!).CancelPendingRead(), input) ?? default;
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
            server.Clients.Unregister(client);
        }
    }

    private async Task ServeAsync(CommandContext context, PipeReader input, PipeWriter output)
    {
        RespLimits limits = server.Options.Limits;
        ClientSession client = context.Client;
        while (true)
        {
            ReadResult result = await input.ReadAsync();
            if (result.IsCanceled)
            {
                return;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            bool close = false;
            try
            {
                while (RespRequestParser.TryParse(ref buffer, context.Request, limits, unauthenticated: !client.Authenticated))
                {
                    if (context.Request.Count == 0)
                    {
                        continue;
                    }

                    ValueTask pending = CommandDispatcher.ExecuteAsync(context);
                    if (pending.IsCompletedSuccessfully)
                    {
                        pending.GetAwaiter().GetResult();
                    }
                    else
                    {
                        await pending;
                    }

                    context.Request.Release();
                    if (context.CloseAfterReply)
                    {
                        close = true;
                        break;
                    }

                    if (context.Writer.UnflushedBytes > FlushThresholdBytes)
                    {
                        FlushResult flushed = await output.FlushAsync();
                        if (flushed.IsCompleted || flushed.IsCanceled)
                        {
                            close = true;
                            break;
                        }
                    }
                }
            }
            catch (RespProtocolException exception)
            {
                context.Request.Release();
                logger.LogInformation("Closing client {ClientId} ({Address}): {Reason}", client.Id, client.RemoteAddress, exception.Message);
                if (exception.ReplyBeforeClose)
                {
                    context.Writer.WriteError(exception.Message);
                }

                close = true;
            }

            if (!close && buffer.Length > limits.MaxQueryBufferBytes)
            {
                logger.LogWarning("Closing client {ClientId} ({Address}) that reached the query buffer limit", client.Id, client.RemoteAddress);
                close = true;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            client.LastInteractionUnixMs = server.NowUnixMs;
            await output.FlushAsync();
            if (close || result.IsCompleted)
            {
                return;
            }
        }
    }
}
