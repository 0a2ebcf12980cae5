using System.IO.Pipelines;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Quorum;
using Dynamite.Protocols.Resp.Commands;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// Runs a command another node forwarded (a write of a key this node is a primary of: <see
/// cref="IKeyValueStore.ForwardsWritesOf"/>) through this front end, as its client's connection would: the same
/// dispatcher, checks and replies, in the client's RESP version and at its connection's consistency, written into a buffer the forwarding node sends on. The
/// forwarding node checked authentication; the command is not forwarded again from here.
/// </summary>
public sealed class ForwardedCommandRunner(RespServer server, TimeProvider clock) : IForwardedCommandRunner
{
    public async ValueTask<byte[]> RunAsync(IReadOnlyList<byte[]> arguments, int protocolVersion, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        using var output = new MemoryStream();
        PipeWriter pipe = PipeWriter.Create(output, new StreamPipeWriterOptions(leaveOpen: true));
        var writer = new RespWriter { ProtocolVersion = protocolVersion };
        writer.Attach(pipe);
        var client = new ClientSession(server.Clients.NextId(), "forwarded", "forwarded", clock.GetUtcNow().ToUnixTimeMilliseconds())
        {
            Authenticated = true,
            ProtocolVersion = protocolVersion,
            IsForwarded = true,
            Consistency = consistency,
        };
        var context = new CommandContext(server, client, writer);
        foreach (byte[] argument in arguments)
        {
            context.Request.Add(argument, owned: true);
        }

        try
        {
            await CommandDispatcher.ExecuteAsync(context);
        }
        finally
        {
            context.Request.Release();
        }

        await pipe.FlushAsync(cancellationToken);
        await pipe.CompleteAsync();
        return output.ToArray();
    }
}
