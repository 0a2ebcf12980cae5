using System.Collections.Concurrent;
using Dynamite.Protocols.Resp.Commands;

namespace Dynamite.Protocols.Resp.Acl;

/// <summary>
/// A node's ACL users, as redis-server keeps them: the <c>default</c> user every connection starts as (all commands,
/// keys and channels; its password is <c>requirepass</c>, or none), the users <c>ACL SETUSER</c> made, and the
/// <see cref="AclLog"/>. Thread-safe: users are looked up without a lock; changes to the set of users take one, and are
/// published (<see cref="Replication"/>) after it is released: the cluster's announcement of a change applies changes
/// here from another thread (<see cref="ApplyReplicated"/>), so publishing under the lock could deadlock with it.
/// </summary>
internal sealed class AclUsers
{
    public const string DefaultUserName = "default";

    /// <summary>The longest user name (UTF-8 bytes): the cluster state's bound on names.</summary>
    public const int MaxNameBytes = 256;

    private readonly ConcurrentDictionary<string, AclUser> _users = new(StringComparer.Ordinal);
    private readonly CommandTable _commands;
    private readonly Lock _changes = new();

    public AclUsers(CommandTable commands, string? requirePass)
    {
        _commands = commands;
        AclUserState state = Build(new AclUserState(), ["on", requirePass is null ? "nopass" : ">" + requirePass, "allkeys", "allchannels", "allcommands"]);
        Default = new AclUser(DefaultUserName, state);
        _users[DefaultUserName] = Default;
    }

    public AclUser Default { get; }

    /// <summary>Told of every change made through this node (not of the ones it applies from elsewhere); null: none.</summary>
    public IAclUserReplication? Replication { get; set; }

    public AclLog Log { get; } = new();

    /// <summary>Whether a new connection must authenticate: the default user is off or has a password.</summary>
    public bool RequiresAuth => Default.State is { Enabled: true, NoPass: true } ? false : true;

    public IReadOnlyList<AclUser> All => [.. _users.Values.OrderBy(u => u.Name, StringComparer.Ordinal)];

    public AclUser? Find(string name) => _users.GetValueOrDefault(name);

    /// <summary>The user <paramref name="name"/> if it is on and <paramref name="password"/> is one of its passwords.</summary>
    public AclUser? Authenticate(string name, string password) =>
        Find(name) is { } user && user.State.Enabled && user.State.AcceptsPassword(password) ? user : null;

    /// <summary>
    /// ACL SETUSER: creates <paramref name="name"/> (off, no passwords, no keys, channels or commands) or changes it by
    /// <paramref name="rules"/>, all or nothing. Throws <see cref="AclRuleException"/> naming the rule that failed.
    /// </summary>
    public void SetUser(string name, IReadOnlyList<string> rules)
    {
        AclUserState state;
        lock (_changes)
        {
            AclUser? existing = Find(name);
            state = Build(existing?.State.Clone() ?? new AclUserState(), rules);
            if (existing is null)
            {
                _users[name] = new AclUser(name, state);
            }
            else
            {
                existing.State = state;
            }
        }

        // Outside the lock: publishing reaches the cluster state, whose announcement applies changes here under it.
        Replication?.Publish(name, state.Describe());
    }

    /// <summary>
    /// A change made through another node: user <paramref name="name"/> becomes exactly <paramref name="rules"/> (as ACL
    /// LIST writes them), or is deleted when null (the default user is never deleted). Not published again. Rules this
    /// node cannot apply (a command it does not know) leave the user as it was and are reported by the exception.
    /// </summary>
    public AclUser? ApplyReplicated(string name, string? rules)
    {
        lock (_changes)
        {
            if (rules is null)
            {
                if (name != DefaultUserName && _users.TryRemove(name, out AclUser? removed))
                {
                    removed.Deleted = true;
                    return removed;
                }

                return null;
            }

            AclUserState state = Build(new AclUserState(), rules.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            if (Find(name) is { } existing)
            {
                existing.State = state;
                return existing;
            }

            var user = new AclUser(name, state);
            _users[name] = user;
            return user;
        }
    }

    /// <summary>ACL DELUSER: removes the users named; returns how many existed. The default user cannot be removed.</summary>
    public int DeleteUsers(IEnumerable<string> names)
    {
        var removed = new List<string>();
        lock (_changes)
        {
            foreach (string name in names)
            {
                if (_users.TryRemove(name, out AclUser? user))
                {
                    user.Deleted = true;
                    removed.Add(name);
                }
            }
        }

        foreach (string name in removed)
        {
            Replication?.Publish(name, null);
        }

        return removed.Count;
    }

    /// <summary>
    /// ACL LOAD: the users become exactly those of <paramref name="lines"/> ("user NAME RULES...", as ACL LIST and ACL
    /// SAVE write them; blank lines and # comments skipped), all or nothing. The default user keeps its state when the
    /// lines do not name it. Throws <see cref="AclRuleException"/> naming the first bad line (1-based) and why.
    /// </summary>
    public void Load(IReadOnlyList<string> lines)
    {
        var loaded = new Dictionary<string, AclUserState>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Count; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2 || words[0] != "user")
            {
                throw new AclRuleException($"line {i + 1}: should start with user keyword");
            }

            if (loaded.ContainsKey(words[1]))
            {
                throw new AclRuleException($"line {i + 1}: Duplicate user '{words[1]}' found");
            }

            try
            {
                loaded[words[1]] = Build(new AclUserState(), words[2..]);
            }
            catch (AclRuleException exception)
            {
                throw new AclRuleException($"line {i + 1}: {exception.Message}");
            }
        }

        var deleted = new List<string>();
        lock (_changes)
        {
            foreach (AclUser user in All)
            {
                if (user.Name != DefaultUserName && !loaded.ContainsKey(user.Name))
                {
                    _users.TryRemove(user.Name, out _);
                    user.Deleted = true;
                    deleted.Add(user.Name);
                }
            }

            foreach ((string name, AclUserState state) in loaded)
            {
                if (Find(name) is { } existing)
                {
                    existing.State = state;
                }
                else
                {
                    _users[name] = new AclUser(name, state);
                }
            }
        }

        foreach (string name in deleted)
        {
            Replication?.Publish(name, null);
        }

        foreach ((string name, AclUserState state) in loaded)
        {
            Replication?.Publish(name, state.Describe());
        }
    }

    /// <summary>ACL SAVE's lines: every user as ACL LIST writes it.</summary>
    public IReadOnlyList<string> Lines() => [.. All.Select(user => $"user {user.Name} {user.State.Describe()}")];

    private AclUserState Build(AclUserState state, IReadOnlyList<string> rules)
    {
        foreach (string rule in rules)
        {
            try
            {
                state.Apply(rule, _commands);
            }
            catch (AclRuleException exception)
            {
                throw new AclRuleException($"Error in ACL SETUSER modifier '{rule}': {exception.Message}");
            }
        }

        state.Seal(_commands);
        return state;
    }
}
