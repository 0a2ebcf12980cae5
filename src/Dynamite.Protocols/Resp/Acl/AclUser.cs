namespace Dynamite.Protocols.Resp.Acl;

/// <summary>
/// One ACL user: a name and its current permissions. Clients keep a reference to the user they authenticated as, so a
/// change by <c>ACL SETUSER</c> (a new <see cref="State"/>, swapped whole) applies to their next command.
/// </summary>
internal sealed class AclUser(string name, AclUserState state)
{
    private volatile AclUserState _state = state;
    private volatile bool _deleted;

    public string Name { get; } = name;

    public AclUserState State
    {
        get => _state;
        set => _state = value;
    }

    /// <summary>Set by ACL DELUSER: clients authenticated as this user are closed.</summary>
    public bool Deleted
    {
        get => _deleted;
        set => _deleted = value;
    }
}
