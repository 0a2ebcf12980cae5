namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// Runs one command and writes its reply. Handlers are static methods (no closure per call) and complete
/// synchronously unless they wait for storage.
/// </summary>
public delegate ValueTask CommandHandler(CommandContext context);
