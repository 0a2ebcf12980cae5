using System.Diagnostics;
using System.Text;

namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>A server process started by a test: output captured, stopped by PID on dispose.</summary>
internal abstract class ManagedProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _process;

    public int Pid => _process?.Id ?? throw new InvalidOperationException("Not started.");

    public bool HasExited => _process?.HasExited ?? true;

    public int ExitCode => _process!.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    protected void StartProcess(string fileName, IEnumerable<string> arguments, string workingDirectory)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("Could not start " + fileName);
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>Waits for the process to exit; false on timeout.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process!.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Signal(int signal) => Signals.Send(Pid, signal);

    /// <summary>kill -9: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (!HasExited)
        {
            Signal(Signals.SigKill);
            await WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            try
            {
                await KillAsync();
            }
            catch (InvalidOperationException)
            {
            }

            _process.Dispose();
        }
    }
}
