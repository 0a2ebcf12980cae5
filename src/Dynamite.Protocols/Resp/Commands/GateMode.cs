namespace Dynamite.Protocols.Resp.Commands;

/// <summary>How a command holds the node's isolation gate while its handler runs (<see cref="GatedHandler"/>).</summary>
internal enum GateMode
{
    /// <summary>Shared with every other client command: it waits only while a transaction or script runs.</summary>
    Shared,

    /// <summary>Alone: EXEC and the script commands, so no other client's command runs between theirs.</summary>
    Exclusive,

    /// <summary>Not at all: what redis-server serves even while a script is busy (AUTH, QUIT, MULTI, SHUTDOWN...).</summary>
    None,

    /// <summary>By its subcommand: SCRIPT KILL and FUNCTION KILL/STATS not at all, the rest shared.</summary>
    BySubcommand,
}
