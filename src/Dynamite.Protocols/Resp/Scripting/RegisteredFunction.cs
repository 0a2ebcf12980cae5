namespace Dynamite.Protocols.Resp.Scripting;

/// <summary>A function a library registered: its name, flags (<c>no-writes</c> and the like) and description.</summary>
internal sealed record RegisteredFunction(string Name, IReadOnlyList<string> Flags, string? Description)
{
    public bool NoWrites => Flags.Contains("no-writes");

    /// <summary>Whether FCALL of it is refused while the node is over <c>maxmemory</c> (neither allow-oom nor no-writes).</summary>
    public bool DeniedOnOutOfMemory => !NoWrites && !Flags.Contains("allow-oom");
}
