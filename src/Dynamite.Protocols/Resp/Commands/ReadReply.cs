using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>Writes a command's reply from the records it read (<see cref="CommandContext.ReadKeys"/>), in argument order.</summary>
public delegate void ReadReply(CommandContext context, ReadOnlySpan<ReadResult> results);
