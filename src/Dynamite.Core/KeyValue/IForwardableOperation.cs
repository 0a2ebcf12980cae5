namespace Dynamite.Core.KeyValue;

/// <summary>
/// A change of one key that stands for a client command, so that a cluster node which may not build the change itself
/// (it is not a primary of the key: a typed key's delta is built from a primary's state) can hand that command to a
/// primary instead. A step of a command over several keys (SMOVE, RENAME) or one key of a multi-key DEL takes this
/// path; a client's single-key command is forwarded whole before it runs.
/// </summary>
public interface IForwardableOperation
{
    /// <summary>The one key the command changes.</summary>
    byte[] Key { get; }

    /// <summary>The client command that makes the same change on a primary (its name first).</summary>
    IReadOnlyList<byte[]> CommandArguments();
}
