namespace Dynamite.Server.Tests.Configuration;

/// <summary>A YAML file in a fresh temporary directory, deleted on dispose.</summary>
internal sealed class TempYaml : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("dynamite-config-");

    public TempYaml(string text)
    {
        Path = System.IO.Path.Combine(_directory.FullName, "node.yaml");
        File.WriteAllText(Path, text);
    }

    public string Path { get; }

    public void Dispose() => _directory.Delete(recursive: true);
}
