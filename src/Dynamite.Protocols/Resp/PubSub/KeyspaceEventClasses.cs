namespace Dynamite.Protocols.Resp.PubSub;

/// <summary>The classes of <c>notify-keyspace-events</c>, one letter each, as redis-server names them.</summary>
[Flags]
public enum KeyspaceEventClasses
{
    None = 0,

    /// <summary>K: publish to <c>__keyspace@0__:key</c>.</summary>
    Keyspace = 1 << 0,

    /// <summary>E: publish to <c>__keyevent@0__:event</c>.</summary>
    Keyevent = 1 << 1,

    /// <summary>g: DEL, EXPIRE, RENAME and the other generic commands.</summary>
    Generic = 1 << 2,

    /// <summary>$: string commands.</summary>
    Strings = 1 << 3,

    /// <summary>l: list commands.</summary>
    List = 1 << 4,

    /// <summary>s: set commands.</summary>
    Set = 1 << 5,

    /// <summary>h: hash commands.</summary>
    Hash = 1 << 6,

    /// <summary>z: sorted-set commands.</summary>
    SortedSet = 1 << 7,

    /// <summary>x: a key expired.</summary>
    Expired = 1 << 8,

    /// <summary>e: a key was evicted.</summary>
    Evicted = 1 << 9,

    /// <summary>t: stream commands.</summary>
    Stream = 1 << 10,

    /// <summary>d: module key types.</summary>
    Module = 1 << 11,

    /// <summary>m: a key was read and missed.</summary>
    KeyMiss = 1 << 12,

    /// <summary>n: a key was created.</summary>
    New = 1 << 13,

    /// <summary>A: every event class but m and n.</summary>
    All = Generic | Strings | List | Set | Hash | SortedSet | Expired | Evicted | Stream | Module,
}
