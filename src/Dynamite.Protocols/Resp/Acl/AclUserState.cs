using System.Security.Cryptography;
using System.Text;
using Dynamite.Protocols.Resp.Commands;

namespace Dynamite.Protocols.Resp.Acl;

/// <summary>
/// What one ACL user may do, as redis-server keeps it: on/off, passwords (SHA-256, as <c>ACL GETUSER</c> shows them),
/// the commands it may run (whole commands, and subcommands or first arguments allowed or denied on top), the key
/// patterns it may read or write, and the channel patterns it may use. Rules (<c>ACL SETUSER</c>'s <c>on</c>,
/// <c>&gt;pass</c>, <c>~keys*</c>, <c>+@read</c>...) change a copy (<see cref="Clone"/>), which replaces the user's
/// state only when every rule applied, so a user is never seen half-changed.
/// <para>
/// The command rules are also kept as text, compacted as redis-server compacts them (a rule for a command replaces the
/// earlier rules for it and its subcommands; <c>+@all</c> and <c>-@all</c> start over), which is what <c>ACL GETUSER</c>
/// and <c>ACL LIST</c> show.
/// </para>
/// </summary>
internal sealed class AclUserState
{
    private readonly HashSet<CommandDefinition> _allowed = [];
    private readonly HashSet<string> _allowedSubcommands = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deniedSubcommands = new(StringComparer.Ordinal);
    private readonly List<string> _commandRules = [];
    private readonly List<string> _passwordHashes = [];
    private readonly List<AclKeyPattern> _keyPatterns = [];
    private readonly List<string> _channelPatterns = [];
    private string _commandBase = "-@all";

    // The patterns as bytes, made once by Seal: the checks on the request path match them without encoding them again.
    private byte[][] _keyPatternBytes = [];
    private byte[][] _channelPatternBytes = [];

    public bool Enabled { get; private set; }

    public bool NoPass { get; private set; }

    public IReadOnlyList<string> PasswordHashes => _passwordHashes;

    public IReadOnlyList<AclKeyPattern> KeyPatterns => _keyPatterns;

    public IReadOnlyList<string> ChannelPatterns => _channelPatterns;

    public bool AllKeys { get; private set; }

    public bool AllChannels { get; private set; }

    /// <summary>Every command, every key, every channel: the dispatcher checks nothing more (the default user's usual state).</summary>
    public bool Unrestricted { get; private set; }

    public AclUserState Clone()
    {
        var copy = new AclUserState
        {
            Enabled = Enabled,
            NoPass = NoPass,
            AllKeys = AllKeys,
            AllChannels = AllChannels,
            _commandBase = _commandBase,
        };
        copy._allowed.UnionWith(_allowed);
        copy._allowedSubcommands.UnionWith(_allowedSubcommands);
        copy._deniedSubcommands.UnionWith(_deniedSubcommands);
        copy._commandRules.AddRange(_commandRules);
        copy._passwordHashes.AddRange(_passwordHashes);
        copy._keyPatterns.AddRange(_keyPatterns);
        copy._channelPatterns.AddRange(_channelPatterns);
        return copy;
    }

    /// <summary>Applies one rule; throws <see cref="AclRuleException"/> for a rule redis-server refuses.</summary>
    public void Apply(string rule, CommandTable commands)
    {
        string lower = rule.ToLowerInvariant();
        switch (lower)
        {
            case "on":
                Enabled = true;
                return;
            case "off":
                Enabled = false;
                return;
            case "nopass":
                NoPass = true;
                _passwordHashes.Clear();
                return;
            case "resetpass":
                NoPass = false;
                _passwordHashes.Clear();
                return;
            case "allkeys":
                _keyPatterns.Clear();
                _keyPatterns.Add(new AclKeyPattern("*", Read: true, Write: true));
                AllKeys = true;
                return;
            case "resetkeys":
                _keyPatterns.Clear();
                AllKeys = false;
                return;
            case "allchannels":
                _channelPatterns.Clear();
                _channelPatterns.Add("*");
                AllChannels = true;
                return;
            case "resetchannels":
                _channelPatterns.Clear();
                AllChannels = false;
                return;
            case "allcommands":
                SetAll(true, commands);
                return;
            case "nocommands":
                SetAll(false, commands);
                return;
            case "reset":
                Apply("resetpass", commands);
                Apply("resetkeys", commands);
                Apply("resetchannels", commands);
                Apply("nocommands", commands);
                Apply("off", commands);
                return;
            case "sanitize-payload" or "skip-sanitize-payload":
                return;
            case "clearselectors":
                return;
        }

        if (rule.Length == 0)
        {
            throw new AclRuleException(AclRuleException.Syntax);
        }

        switch (rule[0])
        {
            case '>':
                AddPassword(Hash(rule[1..]));
                return;
            case '<':
                RemovePassword(Hash(rule[1..]));
                return;
            case '#':
                AddPassword(ValidHash(rule[1..]));
                return;
            case '!':
                RemovePassword(ValidHash(rule[1..]));
                return;
            case '~':
                AddKeyPattern(new AclKeyPattern(rule[1..], Read: true, Write: true));
                return;
            case '%':
                AddKeyPattern(ParsePermissionedPattern(rule));
                return;
            case '&':
                AddChannelPattern(rule[1..]);
                return;
            case '(':
                throw new AclRuleException(AclRuleException.Selectors);
            case '+' or '-':
                ApplyCommandRule(rule[0] == '+', lower[1..], commands);
                return;
            default:
                throw new AclRuleException(AclRuleException.Syntax);
        }
    }

    /// <summary>Publishes what the dispatcher's fast path needs; call after the last rule.</summary>
    public void Seal(CommandTable commands)
    {
        Unrestricted = AllKeys && AllChannels && _allowed.Count == commands.Count && _deniedSubcommands.Count == 0;
        _keyPatternBytes = [.. _keyPatterns.Select(pattern => Encoding.UTF8.GetBytes(pattern.Pattern))];
        _channelPatternBytes = [.. _channelPatterns.Select(pattern => Encoding.UTF8.GetBytes(pattern))];
    }

    /// <summary>Whether the user may run <paramref name="command"/> whose first argument is <paramref name="firstArgument"/>
    /// (empty when it has none).</summary>
    public bool CanRun(CommandDefinition command, ReadOnlySpan<byte> firstArgument)
    {
        bool allowed = _allowed.Contains(command);
        HashSet<string> exceptions = allowed ? _deniedSubcommands : _allowedSubcommands;
        if (exceptions.Count == 0 || firstArgument.IsEmpty)
        {
            return allowed;
        }

        string qualified = command.LowerName + "|" + Encoding.UTF8.GetString(firstArgument).ToLowerInvariant();
        return exceptions.Contains(qualified) ? !allowed : allowed;
    }

    /// <summary>Whether the user may run every command of <paramref name="category"/> (the admin API asks it of @admin).</summary>
    public bool AllowsCategory(string category, CommandTable commands) =>
        commands.All.Where(command => AclCategories.Contains(category, command)).All(command => _allowed.Contains(command));

    /// <summary>Whether some key pattern gives <paramref name="key"/> the access asked for.</summary>
    public bool CanAccessKey(ReadOnlySpan<byte> key, bool read, bool write)
    {
        if (AllKeys)
        {
            return true;
        }

        bool readOk = !read;
        bool writeOk = !write;
        for (int i = 0; i < _keyPatterns.Count; i++)
        {
            AclKeyPattern pattern = _keyPatterns[i];
            if ((pattern.Read && !readOk) || (pattern.Write && !writeOk))
            {
                if (GlobPattern.IsMatch(_keyPatternBytes[i], key))
                {
                    readOk |= pattern.Read;
                    writeOk |= pattern.Write;
                }
            }

            if (readOk && writeOk)
            {
                return true;
            }
        }

        return readOk && writeOk;
    }

    /// <summary>Whether the user may publish or subscribe to <paramref name="channel"/>; a pattern subscription
    /// (<paramref name="isPattern"/>) must name one of the user's patterns exactly, as in redis-server.</summary>
    public bool CanAccessChannel(ReadOnlySpan<byte> channel, bool isPattern)
    {
        if (AllChannels)
        {
            return true;
        }

        foreach (byte[] pattern in _channelPatternBytes)
        {
            if (isPattern ? channel.SequenceEqual(pattern) : GlobPattern.IsMatch(pattern, channel))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The command rules as <c>ACL GETUSER</c> shows them ("+@all -flushdb").</summary>
    public string DescribeCommands() => _commandRules.Count == 0 ? _commandBase : _commandBase + " " + string.Join(' ', _commandRules);

    /// <summary>The key patterns as <c>ACL GETUSER</c> shows them ("~* %R~read:*").</summary>
    public string DescribeKeys() => string.Join(' ', _keyPatterns.Select(p => p.Describe()));

    /// <summary>The channel patterns as <c>ACL GETUSER</c> shows them ("&amp;*").</summary>
    public string DescribeChannels() => string.Join(' ', _channelPatterns.Select(p => "&" + p));

    /// <summary>The whole user as one <c>ACL LIST</c> line's rules: flags, password hashes, keys, channels, commands.</summary>
    public string Describe()
    {
        var parts = new List<string> { Enabled ? "on" : "off" };
        if (NoPass)
        {
            parts.Add("nopass");
        }

        parts.AddRange(_passwordHashes.Select(h => "#" + h));
        if (_keyPatterns.Count > 0)
        {
            parts.Add(DescribeKeys());
        }

        // Restricted channels start from resetchannels, so the line means the same whatever acl-pubsub-default says.
        parts.Add(AllChannels ? "&*" : _channelPatterns.Count > 0 ? "resetchannels " + DescribeChannels() : "resetchannels");
        parts.Add(DescribeCommands());
        return string.Join(' ', parts);
    }

    public bool AcceptsPassword(string password) => NoPass || _passwordHashes.Contains(Hash(password));

    /// <summary>SHA-256 of <paramref name="password"/>, lower-case hex, as redis-server stores passwords.</summary>
    public static string Hash(string password) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(password)));

    private static string ValidHash(string hash) =>
        hash.Length == 64 && hash.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f')
            ? hash
            : throw new AclRuleException(AclRuleException.BadHash);

    private void AddPassword(string hash)
    {
        NoPass = false;
        if (!_passwordHashes.Contains(hash))
        {
            _passwordHashes.Add(hash);
        }
    }

    private void RemovePassword(string hash)
    {
        if (!_passwordHashes.Remove(hash))
        {
            throw new AclRuleException(AclRuleException.NoSuchPassword);
        }

        NoPass = false;
    }

    private static AclKeyPattern ParsePermissionedPattern(string rule)
    {
        int tilde = rule.IndexOf('~', StringComparison.Ordinal);
        if (tilde < 2)
        {
            throw new AclRuleException(AclRuleException.Syntax);
        }

        bool read = false;
        bool write = false;
        foreach (char c in rule[1..tilde])
        {
            switch (char.ToUpperInvariant(c))
            {
                case 'R':
                    read = true;
                    break;
                case 'W':
                    write = true;
                    break;
                default:
                    throw new AclRuleException(AclRuleException.Syntax);
            }
        }

        return new AclKeyPattern(rule[(tilde + 1)..], read, write);
    }

    private void AddKeyPattern(AclKeyPattern pattern)
    {
        if (AllKeys)
        {
            throw new AclRuleException(AclRuleException.PatternAfterAllKeys);
        }

        if (pattern.Read && pattern.Write && pattern.Pattern == "*")
        {
            _keyPatterns.Clear();
            AllKeys = true;
        }

        _keyPatterns.Remove(pattern);
        _keyPatterns.Add(pattern);
    }

    private void AddChannelPattern(string pattern)
    {
        if (AllChannels)
        {
            throw new AclRuleException(AclRuleException.PatternAfterAllChannels);
        }

        if (pattern == "*")
        {
            _channelPatterns.Clear();
            _channelPatterns.Add("*");
            AllChannels = true;
            return;
        }

        if (!_channelPatterns.Contains(pattern, StringComparer.Ordinal))
        {
            _channelPatterns.Add(pattern);
        }
    }

    private void SetAll(bool allow, CommandTable commands)
    {
        _allowed.Clear();
        if (allow)
        {
            _allowed.UnionWith(commands.All);
        }

        _allowedSubcommands.Clear();
        _deniedSubcommands.Clear();
        _commandRules.Clear();
        _commandBase = allow ? "+@all" : "-@all";
    }

    private void ApplyCommandRule(bool allow, string name, CommandTable commands)
    {
        if (name.StartsWith('@'))
        {
            string category = name[1..];
            if (category == "all")
            {
                SetAll(allow, commands);
                return;
            }

            if (!AclCategories.IsCategory(category))
            {
                throw new AclRuleException(AclRuleException.UnknownCommand);
            }

            foreach (CommandDefinition command in commands.All)
            {
                if (AclCategories.Contains(category, command))
                {
                    SetCommand(command, allow);
                }
            }

            ReplaceRule(name, allow);
            return;
        }

        string[] parts = name.Split('|');
        if (!commands.TryGet(Encoding.UTF8.GetBytes(parts[0]), out CommandDefinition? definition))
        {
            throw new AclRuleException(AclRuleException.UnknownCommand);
        }

        HashSet<string>? subcommands = AclSubcommands.Of(definition.LowerName);
        if (parts.Length > 2)
        {
            throw new AclRuleException(parts.Length == 3 && subcommands is not null && subcommands.Contains(parts[1])
                ? AclRuleException.FirstArgOfSubcommand
                : AclRuleException.UnknownCommand);
        }

        if (parts.Length == 1)
        {
            SetCommand(definition, allow);
            _commandRules.RemoveAll(r => RuleName(r) == name || RuleName(r).StartsWith(name + "|", StringComparison.Ordinal));
            _commandRules.Add((allow ? "+" : "-") + name);
            return;
        }

        string argument = parts[1];
        if (argument.Length == 0)
        {
            throw new AclRuleException(AclRuleException.UnknownCommand);
        }

        if (subcommands is not null && !subcommands.Contains(argument))
        {
            throw new AclRuleException(AclRuleException.UnknownCommand);
        }

        bool commandAllowed = _allowed.Contains(definition);
        if (commandAllowed == allow)
        {
            // Engulfed by the whole command's permission: nothing changes, as in redis-server.
            (allow ? _deniedSubcommands : _allowedSubcommands).Remove(name);
            _commandRules.RemoveAll(r => RuleName(r) == name);
            return;
        }

        (allow ? _allowedSubcommands : _deniedSubcommands).Add(name);
        ReplaceRule(name, allow);
    }

    private void SetCommand(CommandDefinition command, bool allow)
    {
        if (allow)
        {
            _allowed.Add(command);
        }
        else
        {
            _allowed.Remove(command);
        }

        string prefix = command.LowerName + "|";
        _allowedSubcommands.RemoveWhere(s => s.StartsWith(prefix, StringComparison.Ordinal));
        _deniedSubcommands.RemoveWhere(s => s.StartsWith(prefix, StringComparison.Ordinal));
    }

    private void ReplaceRule(string name, bool allow)
    {
        _commandRules.RemoveAll(r => RuleName(r) == name);
        _commandRules.Add((allow ? "+" : "-") + name);
    }

    private static string RuleName(string rule) => rule[1..];
}

/// <summary>A key pattern and the access it gives: <c>~p</c> both, <c>%R~p</c> read, <c>%W~p</c> write.</summary>
internal readonly record struct AclKeyPattern(string Pattern, bool Read, bool Write)
{
    public string Describe() => (Read, Write) switch
    {
        (true, true) => "~" + Pattern,
        (true, false) => "%R~" + Pattern,
        _ => "%W~" + Pattern,
    };
}
