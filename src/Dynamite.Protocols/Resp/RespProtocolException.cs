namespace Dynamite.Protocols.Resp;

/// <summary>
/// A request that cannot be framed. As redis-server does, the session replies with
/// <see cref="Exception.Message"/> as an error (when <see cref="ReplyBeforeClose"/>) and closes the connection,
/// because the stream position after a framing error is unknown.
/// </summary>
public sealed class RespProtocolException(string message, bool replyBeforeClose = true) : Exception(message)
{
    public bool ReplyBeforeClose { get; } = replyBeforeClose;
}
