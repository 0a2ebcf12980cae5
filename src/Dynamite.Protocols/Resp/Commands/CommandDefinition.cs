namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// One command of the table: Redis's arity convention (positive: exact argument count including the name;
/// negative: at least that many), key positions for COMMAND INFO, and the documentation COMMAND DOCS returns.
/// </summary>
public sealed record CommandDefinition(
    string Name,
    int Arity,
    CommandFlags Flags,
    int FirstKey,
    int LastKey,
    int KeyStep,
    string Group,
    string Since,
    string Summary,
    CommandHandler Handler)
{
    /// <summary>The lower-case name Redis puts in its error messages.</summary>
    public string LowerName { get; } = Name.ToLowerInvariant();

    public byte[] NameBytes { get; } = System.Text.Encoding.ASCII.GetBytes(Name.ToLowerInvariant());

    /// <summary>
    /// What its metrics count it as: the connection and server groups as themselves, the generic key commands as
    /// keyspace, then by flags: write, read, and a command that neither reads nor writes keys as connection.
    /// </summary>
    public CommandFamily Family { get; } = Group switch
    {
        "connection" => CommandFamily.Connection,
        "server" => CommandFamily.Server,
        "generic" => CommandFamily.Keyspace,
        _ when (Flags & CommandFlags.Write) != 0 => CommandFamily.Write,
        _ when (Flags & CommandFlags.ReadOnly) != 0 => CommandFamily.Read,
        _ => CommandFamily.Connection,
    };

    public bool AcceptsArgumentCount(int count) => Arity >= 0 ? count == Arity : count >= -Arity;
}
