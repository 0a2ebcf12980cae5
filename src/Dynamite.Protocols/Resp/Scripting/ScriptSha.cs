using System.Security.Cryptography;

namespace Dynamite.Protocols.Resp.Scripting;

/// <summary>A script's name as Redis gives it: the lower-case hex SHA1 of its body (EVALSHA, SCRIPT LOAD, redis.sha1hex).</summary>
internal static class ScriptSha
{
#pragma warning disable CA5350 // SHA1 is what the protocol names scripts by; it identifies, it does not protect.
    public static string Of(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA1.HashData(body));
#pragma warning restore CA5350
}
