namespace Dynamite.Protocols.Resp.Commands.StringOperations;

/// <summary>What GETEX (and GETDEL) does to the key after reading it.</summary>
internal enum GetExAction
{
    None,
    Persist,
    Expire,
    Delete,
}
