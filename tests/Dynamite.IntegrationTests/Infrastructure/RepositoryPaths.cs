namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>Finds the repository and the built `dynamite` executable of the same configuration as the tests.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release: the configuration these tests were built in.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string DynamiteDll { get; } = Path.Combine(Root, "src", "Dynamite.Cli", "bin", Configuration, "net10.0", "dynamite.dll");

    private static string FindRoot()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Dynamite.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException("Dynamite.sln not found above " + AppContext.BaseDirectory);
    }
}
