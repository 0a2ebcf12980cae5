using System.Text;
using Dynamite.Core.Versioning;

namespace Dynamite.Simulation;

/// <summary>
/// The omniscient observer's record of every write a coordinator applied, acknowledged or not. Only a
/// simulation can keep it; the checkers use it to tell a sibling legitimately superseded (some applied write's
/// context covered its dot) from one lost, and a real value from an invented one.
/// <para>
/// The workload submits each write (a unique value, and the context its client read); the replica stores report
/// every object they write. Values are unique, so a stored sibling holding a submitted value is that write as a
/// coordinator applied it, and its dot is the write's dot. A write may be applied more than once, under two dots:
/// a node that forwarded it and timed out forwards it to the next replica, which coordinates it again. A stored
/// value nobody submitted is never recorded: the checkers find it as invented.
/// </para>
/// </summary>
public sealed class WriteLedger
{
    private readonly Dictionary<(string Key, string Value), VersionVector?> _submitted = [];
    private readonly HashSet<(string Key, string Value, Dot Dot)> _seen = [];
    private readonly Dictionary<string, List<AppliedWrite>> _byKey = new(StringComparer.Ordinal);
    private readonly Func<long> _now;

    public WriteLedger(Func<long>? now = null) => _now = now ?? (static () => 0);

    public int Count { get; private set; }

    /// <summary>A client sends this write (its value unique) with the context it read (null: a plain put).</summary>
    public void Submit(string key, string value, VersionVector? context) => _submitted[(key, value)] = context;

    /// <summary>A replica store wrote <paramref name="stored"/> for <paramref name="key"/>.</summary>
    public void ObserveStored(string key, VersionedObject stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        foreach (Sibling sibling in stored.Siblings)
        {
            if (sibling.Value is null)
            {
                continue;
            }

            string value = Encoding.UTF8.GetString(sibling.Value);
            if (_submitted.TryGetValue((key, value), out VersionVector? context) && !_seen.Contains((key, value, sibling.Dot)))
            {
                Record(new AppliedWrite(key, value, sibling.Dot, context, _now()));
            }
        }
    }

    public void Record(AppliedWrite write)
    {
        ArgumentNullException.ThrowIfNull(write);
        _seen.Add((write.Key, write.Value, write.Dot));
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

    /// <summary>The dots the write of <paramref name="value"/> got from the coordinators that applied it (none if none did).</summary>
    public IReadOnlyList<Dot> DotsOf(string key, string value) =>
        [.. WritesOf(key).Where(w => string.Equals(w.Value, value, StringComparison.Ordinal)).Select(w => w.Dot)];

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

    public bool WasApplied(string key, string value) => WritesOf(key).Any(w => string.Equals(w.Value, value, StringComparison.Ordinal));
}
