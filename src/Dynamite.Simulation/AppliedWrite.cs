using Dynamite.Core.Versioning;

namespace Dynamite.Simulation;

/// <summary>One coordinator's local write as it happened: the dot it got and the context the client sent (null: a plain put).</summary>
public sealed record AppliedWrite(string Key, string Value, Dot Dot, VersionVector? Context, long TimeMs);
