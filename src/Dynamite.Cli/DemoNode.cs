using System.Diagnostics;

namespace Dynamite.Cli;

/// <summary>One child `dynamite start` process of <c>dynamite demo</c>, its ports, and its log file.</summary>
internal sealed class DemoNode(int index, int basePort, string dataDirectory) : IDisposable
{
    private readonly Lock _logLock = new();
    private StreamWriter? _log;

    public string Id { get; } = $"n{index}";

    public int Index { get; } = index;

    public int PeerPort { get; } = basePort + (10 * index) + 1;

    public int RespPort { get; } = basePort + (10 * index) + 2;

    public int HttpPort { get; } = basePort + (10 * index) + 3;

    public string DataDirectory { get; } = dataDirectory;

    public string LogPath => Path.Combine(DataDirectory, "node.log");

    public string PidPath => Path.Combine(DataDirectory, "node.pid");

    public Process? Process { get; private set; }

    /// <summary>Set once the demo asked this node to stop, so its exit is not reported as a crash.</summary>
    public bool Stopping { get; set; }

    public string PeerAddress => $"127.0.0.1:{PeerPort}";

    public void Start(string fileName, IEnumerable<string> arguments)
    {
        Directory.CreateDirectory(DataDirectory);
        _log = new StreamWriter(new FileStream(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        Process.OutputDataReceived += (_, e) => Log(e.Data);
        Process.ErrorDataReceived += (_, e) => Log(e.Data);
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
        File.WriteAllText(PidPath, Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
    }

    public bool HasExited => Process is null || Process.HasExited;

    /// <summary>The last lines of the node's log, to show why it died.</summary>
    public string LogTail(int lines = 20)
    {
        lock (_logLock)
        {
            _log?.Flush();
        }

        try
        {
            using var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            string[] all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines + 1)).TrimEnd();
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    public void Dispose()
    {
        Process?.Dispose();
        lock (_logLock)
        {
            _log?.Dispose();
            _log = null;
        }
    }

    private void Log(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logLock)
        {
            _log?.WriteLine(line);
        }
    }
}
