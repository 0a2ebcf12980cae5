namespace Dynamite.Protocols.Resp.Commands.StringOperations;

/// <summary>SET's NX / XX: write only when the key is absent, or only when it exists.</summary>
internal enum SetCondition
{
    None,
    IfAbsent,
    IfExists,
}
