using System.Runtime.CompilerServices;

// The configuration tests parse real `dynamite start` command lines through StartCommand.
[assembly: InternalsVisibleTo("Dynamite.Server.Tests")]
