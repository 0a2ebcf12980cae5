using System.Runtime.InteropServices;

namespace Dynamite.Cli;

/// <summary>POSIX kill(2), to send SIGTERM to the demo's own child processes by PID (.NET can only SIGKILL).</summary>
internal static class NativeSignals
{
    public const int SigTerm = 15;

    /// <summary>False if the process is already gone (or not ours).</summary>
    public static bool TrySend(int pid, int signal) => !OperatingSystem.IsWindows() && Kill(pid, signal) == 0;

    // DllImport, not LibraryImport: the generated marshalling needs unsafe code, and kill(2) needs no marshalling.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
