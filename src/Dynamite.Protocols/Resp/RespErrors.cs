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

    /// <summary>redis-server's refusal of a client from beyond loopback while protected mode is on and no password is set.</summary>
    public const string ProtectedMode = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
        "In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of " +
        "the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to " +
        "Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. 2) Alternatively you can " +
        "just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
        "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the " +
        "default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";

    internal static string Truncate(string text) => text.Length > 128 ? text[..128] : text;
}
