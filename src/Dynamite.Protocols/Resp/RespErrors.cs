namespace Dynamite.Protocols.Resp;

/// <summary>Error replies with redis-server's exact text.</summary>
public static class RespErrors
{
    public const string Syntax = "ERR syntax error";
    public const string NotInteger = "ERR value is not an integer or out of range";
    public const string WrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";
    public const string NotFloat = "ERR value is not a valid float";
    public const string Overflow = "ERR increment or decrement would overflow";
    public const string DecrementOverflow = "ERR decrement would overflow";
    public const string NaNOrInfinity = "ERR increment would produce NaN or Infinity";
    public const string NoAuth = "NOAUTH Authentication required.";
    public const string WrongPass = "WRONGPASS invalid username-password pair or user is disabled.";
    public const string AuthNotConfigured = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
    public const string MaxClients = "ERR max number of clients reached";
    public const string InvalidCursor = "ERR invalid cursor";
    public const string DbIndexOutOfRange = "ERR DB index is out of range";
    public const string NoSuchKey = "ERR no such key";
    public const string OffsetOutOfRange = "ERR offset is out of range";

    /// <summary>Redis Cluster's refusal of a request whose keys (a transaction's, a script's, SSUBSCRIBE's channels) span slots.</summary>
    public const string CrossSlot = "CROSSSLOT Keys in request don't hash to the same slot";

    /// <summary>A value over the configured maximum: nothing is stored (Redis says proto-max-bulk-len for its own limit).</summary>
    public const string ValueTooLarge = "ERR string exceeds maximum allowed size (max-value-size)";

    public static string InvalidExpireTime(string command) => $"ERR invalid expire time in '{command}' command";

    public static string UnknownSubcommand(string subcommand, string command) =>
        $"ERR unknown subcommand '{Truncate(subcommand)}'. Try {command.ToUpperInvariant()} HELP.";

    /// <summary>A known subcommand whose arguments its handler refuses (redis-server's addReplySubcommandSyntaxError).</summary>
    public static string SubcommandSyntax(string subcommand, string command) =>
        $"ERR unknown subcommand or wrong number of arguments for '{Truncate(subcommand)}'. Try {command.ToUpperInvariant()} HELP.";

    internal static string Truncate(string text) => text.Length > 128 ? text[..128] : text;
}
