using System.Text;
using Dynamite.Protocols.Resp.Commands;

namespace Dynamite.Protocols.Resp.Acl;

/// <summary>What a user was refused: the command, one of its keys, or one of its channels, and which.</summary>
internal readonly record struct AclDenial(string Reason, string Object)
{
    /// <summary>The NOPERM error the client gets, redis-server's text.</summary>
    public string Error => Reason switch
    {
        "command" => $"NOPERM this user has no permissions to run the '{Object}' command",
        "key" => "NOPERM this user has no permissions to access one of the keys used as arguments",
        _ => "NOPERM this user has no permissions to access one of the channels used as arguments",
    };

    /// <summary>ACL DRYRUN's answer for a refused command.</summary>
    public string DryRunMessage() => Reason switch
    {
        "command" => $"This user has no permissions to run the '{Object}' command",
        "key" => $"This user has no permissions to access the '{Object}' key",
        _ => $"This user has no permissions to access the '{Object}' channel",
    };
}

/// <summary>
/// Whether a user may run one command with its arguments, checked as redis-server checks it: the command (or its
/// subcommand), then every key it names (a write command needs write access, a read-only one read access), then the
/// channels of the pub/sub commands.
/// </summary>
internal static class AclCheck
{
    /// <summary>Null when allowed; else what was refused. <paramref name="arguments"/> start with the command's name.</summary>
    public static AclDenial? Check(AclUserState user, CommandDefinition command, IReadOnlyList<byte[]> arguments)
    {
        if (user.Unrestricted)
        {
            return null;
        }

        // The commands a client may send before authenticating (AUTH, HELLO, QUIT, RESET) are every user's, as in
        // redis-server: a user without them could never switch to another user.
        ReadOnlySpan<byte> first = arguments.Count > 1 ? arguments[1] : default;
        if ((command.Flags & CommandFlags.NoAuth) == 0 && !user.CanRun(command, first))
        {
            string name = AclSubcommands.IsContainer(command.LowerName) && arguments.Count > 1
                ? command.LowerName + "|" + Encoding.UTF8.GetString(first).ToLowerInvariant()
                : command.LowerName;
            return new AclDenial("command", name);
        }

        // A shard channel sits where a key would (SPUBLISH's slot is its channel's) but is checked as a channel.
        if (!user.AllKeys && (command.Flags & CommandFlags.PubSub) == 0)
        {
            bool write = (command.Flags & CommandFlags.Write) != 0;
            bool read = (command.Flags & CommandFlags.ReadOnly) != 0 || !write;
            foreach (byte[] key in command.KeysOf(arguments))
            {
                if (!user.CanAccessKey(key, read, write))
                {
                    return new AclDenial("key", Encoding.UTF8.GetString(key));
                }
            }
        }

        if (!user.AllChannels && ChannelArguments(command.LowerName, arguments.Count) is var (start, end, isPattern))
        {
            for (int i = start; i < end; i++)
            {
                if (!user.CanAccessChannel(arguments[i], isPattern))
                {
                    return new AclDenial("channel", Encoding.UTF8.GetString(arguments[i]));
                }
            }
        }

        return null;
    }

    /// <summary>Where a pub/sub command's channels are among its arguments; null for commands without channels.</summary>
    private static (int Start, int End, bool IsPattern)? ChannelArguments(string command, int count) => command switch
    {
        "publish" or "spublish" => (1, Math.Min(2, count), false),
        "subscribe" or "ssubscribe" => (1, count, false),
        "psubscribe" => (1, count, true),
        _ => null,
    };
}
