using System.Collections.Concurrent;

namespace Dynamite.Cluster.State;

/// <summary>
/// State files in memory: for a node with a volatile engine in tests, and for the simulation, which keeps one
/// per node across simulated crashes (as a disk would) and drops it on a wipe.
/// </summary>
public sealed class MemoryNodeStateStore : INodeStateStore
{
    private readonly ConcurrentDictionary<string, byte[]> _files = new(StringComparer.Ordinal);

    public byte[]? Read(string name) => _files.TryGetValue(name, out byte[]? contents) ? (byte[])contents.Clone() : null;

    public void Write(string name, ReadOnlySpan<byte> contents) => _files[name] = contents.ToArray();

    public void Delete(string name) => _files.TryRemove(name, out _);

    public bool Exists(string name) => _files.ContainsKey(name);

    /// <summary>Forgets every file (a wiped disk).</summary>
    public void Clear() => _files.Clear();
}
