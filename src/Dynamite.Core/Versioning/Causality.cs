namespace Dynamite.Core.Versioning;

/// <summary>How two version vectors relate (Dynamo §4.4). Values are explicit: they may be persisted or sent.</summary>
public enum Causality : byte
{
    /// <summary>Same counters for every node.</summary>
    Equal = 0,

    /// <summary>This vector is strictly older: the other one descends from it.</summary>
    Before = 1,

    /// <summary>This vector strictly descends from the other.</summary>
    After = 2,

    /// <summary>Neither descends from the other: concurrent writes, both must be kept.</summary>
    Concurrent = 3,
}
