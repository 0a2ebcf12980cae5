namespace Dynamite.Simulation;

/// <summary>Every client operation of a run, in invocation order.</summary>
public sealed class History
{
    private readonly List<HistoryEntry> _entries = [];

    public IReadOnlyList<HistoryEntry> Entries => _entries;

    public HistoryEntry Invoke(int client, OperationKind kind, string key, string node, string? value, long nowMs)
    {
        var entry = new HistoryEntry { Index = _entries.Count, Client = client, Kind = kind, Key = key, Node = node, InvokedMs = nowMs, Value = value };
        _entries.Add(entry);
        return entry;
    }

    public int Count(OperationKind kind, OperationStatus status)
    {
        int count = 0;
        foreach (HistoryEntry entry in _entries)
        {
            count += entry.Kind == kind && entry.Status == status ? 1 : 0;
        }

        return count;
    }

    /// <summary>The whole history, one operation per line: what the determinism test compares.</summary>
    public string Render() => string.Join('\n', _entries);
}
