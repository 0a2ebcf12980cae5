namespace Dynamite.Server.Configuration;

/// <summary>A configuration the node cannot start with; its message is shown to the operator as is.</summary>
public sealed class ConfigurationException(string message) : Exception(message);
