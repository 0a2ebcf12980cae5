namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// The group a command's metrics are counted under (the <c>family</c> tag of
/// <see cref="RespMetrics.CommandDuration"/>), derived from the command table's group and flags by
/// <see cref="CommandDefinition.Family"/>. Few on purpose: one series per family, not per command.
/// </summary>
public enum CommandFamily
{
    /// <summary>Reads values of declared keys (GET, MGET, STRLEN, DGET, ...).</summary>
    Read = 0,

    /// <summary>Writes values of declared keys (SET, INCR, APPEND, DSET, ...).</summary>
    Write = 1,

    /// <summary>The generic key commands (DEL, EXISTS, EXPIRE, TTL, TYPE, SCAN, KEYS, ...).</summary>
    Keyspace = 2,

    /// <summary>Connection state (PING, HELLO, AUTH, SELECT, CLIENT, DYN.CONSISTENCY, ...).</summary>
    Connection = 3,

    /// <summary>The server group (INFO, COMMAND, CONFIG, DBSIZE, FLUSHALL, ...).</summary>
    Server = 4,
}
