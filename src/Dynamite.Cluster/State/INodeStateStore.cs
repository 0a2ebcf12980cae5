namespace Dynamite.Cluster.State;

/// <summary>
/// The node's small state files (the cluster state, the warm-up marker, handoff progress, the data's
/// incarnation), by name. A write replaces the whole file atomically: a crash leaves the old contents or the new,
/// never a mix. The server keeps them in its data directory (<see cref="FileNodeStateStore"/>); the simulation
/// and tests in memory (<see cref="MemoryNodeStateStore"/>), where a simulated crash keeps them as a disk would.
/// </summary>
public interface INodeStateStore
{
    /// <summary>The file's contents; null when it does not exist.</summary>
    byte[]? Read(string name);

    /// <summary>Replaces the file's contents atomically and durably.</summary>
    void Write(string name, ReadOnlySpan<byte> contents);

    /// <summary>Removes the file; nothing happens when it does not exist.</summary>
    void Delete(string name);

    bool Exists(string name);
}
