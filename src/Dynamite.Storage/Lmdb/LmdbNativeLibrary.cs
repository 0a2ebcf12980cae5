using System.Reflection;
using System.Runtime.InteropServices;
using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// Decides which native LMDB the LightningDB bindings call. On Linux that is always the system's
/// <c>liblmdb.so.0</c> (Debian's and Ubuntu's package <c>liblmdb0</c>, LMDB 0.9): the <c>liblmdb.so</c> that the
/// LightningDB package ships for linux-x64 is LMDB 1.0, built against a newer glibc (2.38) than Debian 12 has, and
/// LMDB 1.0 writes a different file format, so quietly falling back to it on a machine where it happens to load
/// would give data files that the 0.9 library refuses, and the reverse. Elsewhere the package's own library is used.
/// </summary>
internal static class LmdbNativeLibrary
{
    /// <summary>The soname of LMDB 0.9's shared library.</summary>
    public const string LinuxLibrary = "liblmdb.so.0";

    /// <summary>The library name LightningDB's P/Invokes ask for.</summary>
    private const string ImportName = "lmdb";

    private static readonly Lock Gate = new();
    private static bool _installed;
    private static IntPtr _handle;

    /// <summary>Installs the resolver once per process, before the first LMDB call. If the host already installed a
    /// resolver for LightningDB, that one stays in charge.</summary>
    public static void EnsureResolver()
    {
        lock (Gate)
        {
            if (_installed)
            {
                return;
            }

            _installed = true;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(LightningEnvironment).Assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // Someone else resolves LightningDB's imports.
            }
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != ImportName || !OperatingSystem.IsLinux())
        {
            return IntPtr.Zero;
        }

        IntPtr handle = Volatile.Read(ref _handle);
        if (handle != IntPtr.Zero)
        {
            return handle;
        }

        if (!NativeLibrary.TryLoad(LinuxLibrary, out handle))
        {
            throw new DllNotFoundException(
                $"The lmdb engine needs the system's LMDB library ({LinuxLibrary}), which is not installed: " +
                "install the liblmdb0 package (apt-get install liblmdb0).");
        }

        Volatile.Write(ref _handle, handle);
        return handle;
    }
}
