using System.CommandLine;
using System.Text.Json;

namespace Dynamite.Cli;

/// <summary>What every admin verb shares: the node's admin address, --json, and turning failures into a message and exit code 1.</summary>
internal static class AdminOptions
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Option<string> Http() => new("--http")
    {
        Description = "The node's admin HTTP address, HOST:PORT (default: 127.0.0.1:22222; `dynamite demo` puts n1's at 127.0.0.1:8113).",
        DefaultValueFactory = _ => "127.0.0.1:22222",
    };

    public static Option<bool> Json() => new("--json") { Description = "Print the admin API's JSON instead of a table." };

    public static void PrintJson(JsonDocument document) => Console.WriteLine(JsonSerializer.Serialize(document.RootElement, Indented));

    public static async Task<int> RunAsync(Func<Task<int>> verb)
    {
        try
        {
            return await verb();
        }
        catch (AdminException exception)
        {
            await Console.Error.WriteLineAsync("dynamite: " + exception.Message);
            return 1;
        }
    }
}
