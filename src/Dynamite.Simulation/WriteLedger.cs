using Dynamite.Core.Versioning;

namespace Dynamite.Simulation;

/// <summary>
/// The omniscient observer's record of every write a coordinator applied, acknowledged or not. Only a
/// simulation can keep it; the checkers use it to tell a sibling legitimately superseded (some applied write's
/// context covered its dot) from one lost, and a real value from an invented one.
/// </summary>
public sealed class WriteLedger
{
    private readonly Dictionary<string, List<AppliedWrite>> _byKey = new(StringComparer.Ordinal);

    public int Count { get; private set; }

    public void Record(AppliedWrite write)
    {
        ArgumentNullException.ThrowIfNull(write);
        if (!_byKey.TryGetValue(write.Key, out List<AppliedWrite>? writes))
        {
            writes = [];
            _byKey.Add(write.Key, writes);
        }

        writes.Add(write);
        Count++;
    }

    public IReadOnlyList<AppliedWrite> WritesOf(string key) =>
        _byKey.TryGetValue(key, out List<AppliedWrite>? writes) ? writes : [];

    /// <summary>True when some applied write of <paramref name="key"/> carried a context that covers <paramref name="dot"/>: it superseded that dot.</summary>
    public bool IsSuperseded(string key, Dot dot)
    {
        foreach (AppliedWrite write in WritesOf(key))
        {
            if (write.Context is { } context && context.Covers(dot))
            {
                return true;
            }
        }

        return false;
    }

    public bool WasApplied(string key, string value)
    {
        foreach (AppliedWrite write in WritesOf(key))
        {
            if (string.Equals(write.Value, value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
