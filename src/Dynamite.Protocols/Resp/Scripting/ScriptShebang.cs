using System.Text;

namespace Dynamite.Protocols.Resp.Scripting;

/// <summary>
/// Redis 7's script shebang, <c>#!lua flags=no-writes,allow-oom</c> on the first line: the engine must be lua, and
/// <c>no-writes</c> makes the script read-only, and a script that declares flags without <c>allow-oom</c> or <c>no-writes</c> is
/// refused while the node is over <c>maxmemory</c> (<see cref="DeniedOnOutOfMemory"/>). The line is blanked before compiling (Lua would not parse it), keeping
/// line numbers in error messages.
/// </summary>
internal readonly record struct ScriptShebang(byte[] Body, bool NoWrites, string? Error, bool DeclaresFlags = false, bool AllowOom = false)
{
    /// <summary>Redis 7: a script with a shebang may add memory unless it says otherwise (no-writes implies allow-oom).</summary>
    public bool DeniedOnOutOfMemory => DeclaresFlags && !NoWrites && !AllowOom;

    private static readonly HashSet<string> KnownFlags = new(StringComparer.Ordinal)
    {
        "no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys",
    };

    public static ScriptShebang Parse(byte[] body)
    {
        if (body.Length < 2 || body[0] != (byte)'#' || body[1] != (byte)'!')
        {
            return new ScriptShebang(body, false, null);
        }

        int end = Array.IndexOf(body, (byte)'\n');
        string line = Encoding.UTF8.GetString(body, 2, (end < 0 ? body.Length : end) - 2).Trim();
        string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || words[0] != "lua")
        {
            return new ScriptShebang(body, false, $"ERR Unexpected engine in script shebang: {(words.Length == 0 ? "" : words[0])}");
        }

        bool noWrites = false;
        bool allowOom = false;
        foreach (string word in words.Skip(1))
        {
            if (!word.StartsWith("flags=", StringComparison.Ordinal))
            {
                return new ScriptShebang(body, false, $"ERR Unknown lua shebang option: {word}");
            }

            foreach (string flag in word["flags=".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!KnownFlags.Contains(flag))
                {
                    return new ScriptShebang(body, false, $"ERR Unexpected flag in script shebang: {flag}");
                }

                noWrites |= flag == "no-writes";
                allowOom |= flag == "allow-oom";
            }
        }

        byte[] stripped = end < 0 ? [] : body[end..];
        return new ScriptShebang(stripped, noWrites, null, DeclaresFlags: true, allowOom);
    }
}
