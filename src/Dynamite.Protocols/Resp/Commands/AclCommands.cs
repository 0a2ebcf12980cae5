using System.Globalization;
using System.Security.Cryptography;
using Dynamite.Protocols.Resp.Acl;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// ACL: the users of this node (<see cref="AclUsers"/>) as redis-server's ACL command shows and changes them. With an
/// <c>aclfile</c>, <c>ACL SAVE</c> writes the users to it and <c>ACL LOAD</c> reads them back; without one both answer
/// redis-server's "not configured" error.
/// </summary>
internal static class AclCommands
{
    private static readonly string[] HelpLines =
    [
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]", "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]", "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]", "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>", "    Get the user's details.",
        "GENPASS [<bits>]", "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST", "    Show users details in config file format.",
        "LOAD", "    Reload users from the ACL file.",
        "LOG [<count> | RESET]", "    Show the ACL log entries.",
        "SAVE", "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]", "    Create or modify a user with the specified attributes.",
        "USERS", "    List all the registered usernames.",
        "WHOAMI", "    Return the current connection username.",
    ];

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("ACL", -2, CommandFlags.None, 0, 0, 0, "server", "6.0.0", "A container for Access List Control commands.", Acl),
    ];

    private static ValueTask Acl(CommandContext context)
    {
        AclUsers users = context.Server.Acl;
        string subcommand = context.ArgumentString(1).ToUpperInvariant();
        int count = context.ArgumentCount;
        switch (subcommand)
        {
            case "WHOAMI" when count == 2:
                context.Writer.WriteBulk(context.Client.User?.Name ?? AclUsers.DefaultUserName);
                return ValueTask.CompletedTask;
            case "USERS" when count == 2:
                IReadOnlyList<AclUser> all = users.All;
                context.Writer.WriteArrayHeader(all.Count);
                foreach (AclUser user in all)
                {
                    context.Writer.WriteBulk(user.Name);
                }

                return ValueTask.CompletedTask;
            case "LIST" when count == 2:
                IReadOnlyList<AclUser> listed = users.All;
                context.Writer.WriteArrayHeader(listed.Count);
                foreach (AclUser user in listed)
                {
                    context.Writer.WriteBulk($"user {user.Name} {user.State.Describe()}");
                }

                return ValueTask.CompletedTask;
            case "SETUSER" when count >= 3:
                return SetUser(context, users);
            case "GETUSER" when count == 3:
                return GetUser(context, users);
            case "DELUSER" when count >= 3:
                return DeleteUsers(context, users);
            case "CAT" when count <= 3:
                return Categories(context);
            case "GENPASS" when count <= 3:
                return GeneratePassword(context);
            case "LOG" when count <= 3:
                return Log(context, users);
            case "DRYRUN" when count >= 4:
                return DryRun(context, users);
            case "LOAD" or "SAVE" when count == 2 && context.Server.Options.AclFile is null:
                return context.Error("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.");
            case "LOAD" when count == 2:
                return LoadFile(context, users, context.Server.Options.AclFile!);
            case "SAVE" when count == 2:
                return SaveFile(context, users, context.Server.Options.AclFile!);
            case "HELP" when count == 2:
                return context.Help(HelpLines);
            case "CAT" or "GENPASS" or "LOG":
                // Optional arguments: the subcommand itself refuses too many, in redis-server's words.
                return context.Error($"ERR unknown subcommand or wrong number of arguments for '{subcommand}'. Try ACL HELP.");
            case "WHOAMI" or "USERS" or "LIST" or "SETUSER" or "GETUSER" or "DELUSER" or "CAT" or "GENPASS" or "LOG" or "DRYRUN" or "LOAD" or "SAVE" or "HELP":
                return context.Error($"ERR wrong number of arguments for 'acl|{subcommand.ToLowerInvariant()}' command");
            default:
                return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "ACL"));
        }
    }

    private static ValueTask LoadFile(CommandContext context, AclUsers users, string path)
    {
        try
        {
            users.Load(File.ReadAllLines(path));
            context.CloseAfterReply |= AclRevocations.CloseClientsOfDeletedUsers(context.Server, context.Client);
            foreach (AclUser user in users.All)
            {
                context.CloseAfterReply |= AclRevocations.CloseSubscribers(context.Server, user, context.Client);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return context.Error($"ERR Error loading ACLs, opening file '{path}': {exception.Message}");
        }
        catch (AclRuleException exception)
        {
            return context.Error($"ERR {path}:{exception.Message}");
        }

        context.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }

    /// <summary>ACL SAVE: every user into the ACL file, through a temporary file renamed over it, so a crash leaves the old or the new file whole.</summary>
    private static ValueTask SaveFile(CommandContext context, AclUsers users, string path)
    {
        string temporary = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            using (var writer = new StreamWriter(stream))
            {
                foreach (string line in users.Lines())
                {
                    writer.Write(line);
                    writer.Write('\n');
                }

                writer.Flush();
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return context.Error($"ERR There was an error trying to save the ACLs. Please check the server logs for more information ({exception.Message})");
        }

        context.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }

    private static ValueTask SetUser(CommandContext context, AclUsers users)
    {
        string name = context.ArgumentString(2);
        if (name.Length == 0 || name.Any(c => c is ' ' or '\0'))
        {
            return context.Error("ERR Usernames can't contain spaces or null characters");
        }

        if (System.Text.Encoding.UTF8.GetByteCount(name) > AclUsers.MaxNameBytes)
        {
            // Users are cluster state, whose names are bounded so a damaged state cannot make a node allocate much.
            return context.Error($"ERR Usernames are limited to {AclUsers.MaxNameBytes} bytes");
        }

        var rules = new List<string>(context.ArgumentCount - 3);
        for (int i = 3; i < context.ArgumentCount; i++)
        {
            rules.Add(context.ArgumentString(i));
        }

        try
        {
            users.SetUser(name, rules);
        }
        catch (AclRuleException exception)
        {
            return context.Error("ERR " + exception.Message);
        }

        context.Writer.WriteOk();
        context.CloseAfterReply |= AclRevocations.CloseSubscribers(context.Server, users.Find(name)!, context.Client);
        return ValueTask.CompletedTask;
    }

    private static ValueTask GetUser(CommandContext context, AclUsers users)
    {
        if (users.Find(context.ArgumentString(2)) is not { } user)
        {
            context.Writer.WriteNull();
            return ValueTask.CompletedTask;
        }

        AclUserState state = user.State;
        RespWriter writer = context.Writer;
        writer.WriteMapHeader(6);
        writer.WriteBulk("flags"u8);
        var flags = new List<string> { state.Enabled ? "on" : "off" };
        if (state.NoPass)
        {
            flags.Add("nopass");
        }

        flags.Add("sanitize-payload");
        writer.WriteArrayHeader(flags.Count);
        foreach (string flag in flags)
        {
            writer.WriteBulk(flag);
        }

        writer.WriteBulk("passwords"u8);
        writer.WriteArrayHeader(state.PasswordHashes.Count);
        foreach (string hash in state.PasswordHashes)
        {
            writer.WriteBulk(hash);
        }

        writer.WriteBulk("commands"u8);
        writer.WriteBulk(state.DescribeCommands());
        writer.WriteBulk("keys"u8);
        writer.WriteBulk(state.DescribeKeys());
        writer.WriteBulk("channels"u8);
        writer.WriteBulk(state.DescribeChannels());
        writer.WriteBulk("selectors"u8);
        writer.WriteArrayHeader(0);
        return ValueTask.CompletedTask;
    }

    private static ValueTask DeleteUsers(CommandContext context, AclUsers users)
    {
        var names = new List<string>();
        for (int i = 2; i < context.ArgumentCount; i++)
        {
            string name = context.ArgumentString(i);
            if (name == AclUsers.DefaultUserName)
            {
                return context.Error("ERR The 'default' user cannot be removed");
            }

            names.Add(name);
        }

        int removed = users.DeleteUsers(names);
        context.Writer.WriteInteger(removed);
        if (removed > 0)
        {
            context.CloseAfterReply |= AclRevocations.CloseClientsOfDeletedUsers(context.Server, context.Client);
        }

        return ValueTask.CompletedTask;
    }

    private static ValueTask Categories(CommandContext context)
    {
        RespWriter writer = context.Writer;
        if (context.ArgumentCount == 2)
        {
            writer.WriteArrayHeader(AclCategories.Names.Length);
            foreach (string name in AclCategories.Names)
            {
                writer.WriteBulk(name);
            }

            return ValueTask.CompletedTask;
        }

        string category = context.ArgumentString(2).ToLowerInvariant();
        if (!AclCategories.IsCategory(category))
        {
            return context.Error($"ERR Unknown category '{context.ArgumentString(2)}'");
        }

        var names = new List<string>();
        foreach (CommandDefinition command in context.Server.Commands.All)
        {
            if (!AclCategories.Contains(category, command))
            {
                continue;
            }

            names.Add(command.LowerName);
            if (AclSubcommands.Of(command.LowerName) is { } subcommands)
            {
                names.AddRange(subcommands.Order(StringComparer.Ordinal).Select(s => command.LowerName + "|" + s));
            }
        }

        writer.WriteArrayHeader(names.Count);
        foreach (string name in names)
        {
            writer.WriteBulk(name);
        }

        return ValueTask.CompletedTask;
    }

    private static ValueTask GeneratePassword(CommandContext context)
    {
        long bits = 256;
        if (context.ArgumentCount == 3 && (!RespNumbers.TryParseInt64(context.Argument(2), out bits) || bits is <= 0 or > 4096))
        {
            return context.Error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096");
        }

        // Hex digits of random bytes, as redis-server: bits rounded up to whole hex digits.
        int digits = (int)((bits + 3) / 4);
        byte[] random = RandomNumberGenerator.GetBytes((digits + 1) / 2);
        context.Writer.WriteBulk(Convert.ToHexStringLower(random)[..digits]);
        return ValueTask.CompletedTask;
    }

    private static ValueTask Log(CommandContext context, AclUsers users)
    {
        int count = int.MaxValue;
        if (context.ArgumentCount == 3)
        {
            if (context.ArgumentIs(2, "RESET"))
            {
                users.Log.Reset();
                context.Writer.WriteOk();
                return ValueTask.CompletedTask;
            }

            if (!RespNumbers.TryParseInt64(context.Argument(2), out long requested) || requested < 0)
            {
                return context.Error("ERR value is out of range, must be positive");
            }

            count = (int)Math.Min(requested, int.MaxValue);
        }

        IReadOnlyList<AclLogEntry> entries = users.Log.Newest(count);
        long now = context.Server.NowUnixMs;
        RespWriter writer = context.Writer;
        writer.WriteArrayHeader(entries.Count);
        foreach (AclLogEntry entry in entries)
        {
            writer.WriteMapHeader(7);
            writer.WriteBulk("count"u8);
            writer.WriteInteger(entry.Count);
            writer.WriteBulk("reason"u8);
            writer.WriteBulk(entry.Reason);
            writer.WriteBulk("context"u8);
            writer.WriteBulk(entry.Context);
            writer.WriteBulk("object"u8);
            writer.WriteBulk(entry.Object);
            writer.WriteBulk("username"u8);
            writer.WriteBulk(entry.Username);
            writer.WriteBulk("age-seconds"u8);
            writer.WriteBulk(((now - entry.CreatedUnixMs) / 1000.0).ToString("0.###", CultureInfo.InvariantCulture));
            writer.WriteBulk("client-info"u8);
            writer.WriteBulk(entry.ClientInfo);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>ACL DRYRUN user command args...: what the user would be told, without running anything.</summary>
    private static ValueTask DryRun(CommandContext context, AclUsers users)
    {
        if (users.Find(context.ArgumentString(2)) is not { } user)
        {
            return context.Error($"ERR User '{context.ArgumentString(2)}' not found");
        }

        if (!context.Server.Commands.TryGet(context.Argument(3), out CommandDefinition? command))
        {
            return context.Error($"ERR Command '{context.ArgumentString(3)}' not found");
        }

        var arguments = new List<byte[]>(context.ArgumentCount - 3);
        for (int i = 3; i < context.ArgumentCount; i++)
        {
            arguments.Add(context.OwnedArgument(i));
        }

        if (!command.AcceptsArgumentCount(arguments.Count))
        {
            return context.Error($"ERR wrong number of arguments for '{command.LowerName}' command");
        }

        AclDenial? denial = AclCheck.Check(user.State, command, arguments);
        if (denial is null)
        {
            context.Writer.WriteOk();
        }
        else
        {
            context.Writer.WriteBulk(denial.Value.DryRunMessage());
        }

        return ValueTask.CompletedTask;
    }
}
