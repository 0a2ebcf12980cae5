namespace Dynamite.Protocols.Resp.Scripting;

/// <summary>A function a library registered: its name, flags (<c>no-writes</c> and the like) and description.</summary>
internal sealed record RegisteredFunction(string Name, IReadOnlyList<string> Flags, string? Description)
{
    public bool NoWrites => Flags.Contains("no-writes");
}
