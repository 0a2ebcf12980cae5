namespace Dynamite.Storage;

/// <summary>
/// How hard a durable engine works to get an acknowledged write onto the disk, traded against write
/// throughput. Configuration files spell the members in lower case (<c>always</c>, <c>batch</c>,
/// <c>never</c>); the values are explicit so that a stored or transmitted number never changes meaning.
/// Every policy survives a crash of the process (kill -9): they differ only in what a power loss or an
/// operating-system crash can take away.
/// </summary>
public enum FsyncPolicy
{
    /// <summary>Every commit is fsynced before it is acknowledged: survives power loss.</summary>
    Always = 0,

    /// <summary>The disk is synced about once a second: a power loss loses at most about the last second.</summary>
    Batch = 1,

    /// <summary>The engine never syncs on its own; the operating system decides when data reaches the disk.</summary>
    Never = 2,
}
