namespace Dynamite.Protocols.Resp.Commands;

/// <summary>Command lookup by name, case-insensitive, without allocating.</summary>
public sealed class CommandTable
{
    private readonly Dictionary<byte[], CommandDefinition> _byName = new(AsciiCaseInsensitiveComparer.Instance);
    private readonly Dictionary<byte[], CommandDefinition>.AlternateLookup<ReadOnlySpan<byte>> _lookup;

    public CommandTable(IEnumerable<CommandDefinition> definitions)
    {
        foreach (CommandDefinition definition in definitions)
        {
            _byName.Add(definition.NameBytes, definition);
        }

        _lookup = _byName.GetAlternateLookup<ReadOnlySpan<byte>>();
        All = [.. _byName.Values.OrderBy(d => d.LowerName, StringComparer.Ordinal)];
    }

    /// <summary>Every command, ordered by name.</summary>
    public IReadOnlyList<CommandDefinition> All { get; }

    public int Count => _byName.Count;

    public bool TryGet(ReadOnlySpan<byte> name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CommandDefinition? definition) =>
        _lookup.TryGetValue(name, out definition);

    /// <summary>The table of every command this build serves.</summary>
    public static CommandTable CreateDefault() => new(
    [
        .. ConnectionCommands.Definitions,
        .. AclCommands.Definitions,
        .. ServerCommands.Definitions,
        .. StringCommands.Definitions,
        .. LcsCommand.Definitions,
        .. BitmapCommands.Definitions,
        .. HyperLogLogCommands.Definitions,
        .. PfDebugCommand.Definitions,
        .. CounterCommands.Definitions,
        .. KeyCommands.Definitions,
        .. KeyCopyCommands.Definitions,
        .. HashCommands.Definitions,
        .. SetCommands.Definitions,
        .. SortedSetCommands.Definitions,
        .. BlockingSortedSetCommands.Definitions,
        .. ListCommands.Definitions,
        .. FunctionCommands.Definitions,
        .. MemoryCommands.Definitions,
        .. ObjectCommands.Definitions,
        .. ClusterCommands.Definitions,
        .. DynamoCommands.Definitions,
        ForwardedTransactions.Definition,
        .. TransactionCommands.Definitions,
        .. PubSubCommands.Definitions,
        .. ScriptCommands.Definitions,
        .. PersistenceCommands.Definitions,
    ]);
}
