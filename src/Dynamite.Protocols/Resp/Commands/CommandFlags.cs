namespace Dynamite.Protocols.Resp.Commands;

/// <summary>Command properties as COMMAND INFO reports them, and as dispatch uses them.</summary>
[Flags]
public enum CommandFlags
{
    None = 0,
    Write = 1 << 0,
    ReadOnly = 1 << 1,
    DenyOom = 1 << 2,
    Fast = 1 << 3,
    /// <summary>Allowed before AUTH when a password is required.</summary>
    NoAuth = 1 << 4,
    Loading = 1 << 5,
    Stale = 1 << 6,
    Admin = 1 << 7,

    /// <summary>A pub/sub command: cluster clients (redis-py) route it by its channel, as COMMAND INFO's "pubsub" flag tells them.</summary>
    PubSub = 1 << 8,

    /// <summary>Refused inside MULTI, which it aborts (Redis's no-multi flag).</summary>
    NoMulti = 1 << 9,
}
