namespace Dynamite.Protocols.Resp.Scripting;

/// <summary>What a running script reaches outside Lua: the node's commands, its log and its protocol setting.</summary>
internal interface IScriptHost
{
    /// <summary>Runs one command for <c>redis.call</c> or <c>redis.pcall</c>; returns its reply as RESP bytes (an error reply when refused).</summary>
    byte[] Call(byte[][] arguments);

    /// <summary><c>redis.log</c>.</summary>
    void Log(int level, string message);

    /// <summary><c>redis.setresp</c>: the protocol later calls reply in.</summary>
    void SetProtocol(int version);

    /// <summary><c>redis.acl_check_cmd</c>: whether the script's user may run this command (its name first) with these
    /// arguments; null when there is no such command.</summary>
    bool? MayRun(byte[][] arguments);
}
