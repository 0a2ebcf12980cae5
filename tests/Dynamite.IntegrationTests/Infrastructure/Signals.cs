using System.Runtime.InteropServices;

namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>POSIX signals for processes the tests started (by PID, never anything else).</summary>
internal static partial class Signals
{
    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigInt = 2;
    public const int SigStop = 19;
    public const int SigCont = 18;

    public static void Send(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
