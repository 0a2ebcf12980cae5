namespace Dynamite.Cli;

/// <summary>An admin verb could not do its job; the message is shown as is.</summary>
internal sealed class AdminException(string message) : Exception(message);
