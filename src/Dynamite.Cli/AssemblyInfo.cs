using System.Runtime.CompilerServices;

// The configuration tests parse real `dynamite start` command lines through StartCommand; the bench tests
// check the load generator's pieces (histogram, reply reader, command templates).
[assembly: InternalsVisibleTo("Dynamite.Server.Tests")]
