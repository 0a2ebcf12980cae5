namespace Dynamite.Protocols.Resp.Acl;

/// <summary>An ACL rule that cannot be applied; the message is redis-server's text for it (after "modifier '...': ").</summary>
internal sealed class AclRuleException(string message) : Exception(message)
{
    public const string UnknownCommand = "Unknown command or category name in ACL";
    public const string Syntax = "Syntax error";
    public const string PatternAfterAllKeys = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    public const string PatternAfterAllChannels = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
    public const string NoSuchPassword = "The password you are trying to remove from the user does not exist";
    public const string BadHash = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
    public const string FirstArgOfSubcommand = "Allowing first-arg of a subcommand is not supported";
    public const string Selectors = "Selectors are not supported by Dynamite yet";
}
