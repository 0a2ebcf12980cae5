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

    /// <summary>How the command holds the node's isolation gate (<see cref="GatedHandler"/>).</summary>
    internal GateMode Gate { get; } = GatedHandler.ModeOf(Name.ToLowerInvariant());

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

    /// <summary>
    /// For commands whose keys follow a key count (EVAL script numkeys key..., FCALL, SINTERCARD numkeys key...): the
    /// count's position; 0 when the keys are where <see cref="FirstKey"/>, <see cref="LastKey"/> and <see cref="KeyStep"/> say.
    /// A command with both (ZUNIONSTORE destination numkeys key...) names the keys from <see cref="FirstKey"/> up to the
    /// count, then the counted ones.
    /// </summary>
    public int KeyCountAt { get; init; }

    /// <summary>
    /// The keys <paramref name="arguments"/> (the command's name first) name, as COMMAND GETKEYS reports them and as
    /// Redis Cluster's one-slot rule reads them; a key count that is not a number within the arguments names none.
    /// </summary>
    public IEnumerable<byte[]> KeysOf(IReadOnlyList<byte[]> arguments)
    {
        if (KeyCountAt > 0)
        {
            for (int i = Math.Max(FirstKey, 1); FirstKey > 0 && i < KeyCountAt && i < arguments.Count; i++)
            {
                yield return arguments[i];
            }

            if (KeyCountAt < arguments.Count
                && RespNumbers.TryParseInt64(arguments[KeyCountAt], out long count)
                && count > 0
                && count <= arguments.Count - KeyCountAt - 1)
            {
                for (int i = 0; i < count; i++)
                {
                    yield return arguments[KeyCountAt + 1 + i];
                }
            }

            yield break;
        }

        if (FirstKey <= 0 || FirstKey >= arguments.Count)
        {
            yield break;
        }

        int last = LastKey < 0 ? arguments.Count + LastKey : Math.Min(LastKey, arguments.Count - 1);
        for (int i = FirstKey; i <= last; i += Math.Max(1, KeyStep))
        {
            yield return arguments[i];
        }
    }

    /// <summary>Its counts for INFO commandstats.</summary>
    internal CommandCallStats Stats { get; } = new();

    public bool AcceptsArgumentCount(int count) => Arity >= 0 ? count == Arity : count >= -Arity;
}
