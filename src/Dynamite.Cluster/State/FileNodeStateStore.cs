using System.Runtime.InteropServices;

namespace Dynamite.Cluster.State;

/// <summary>
/// State files in one directory. A write goes to a temporary file that is flushed to disk, then renamed over the
/// old one, and the directory is flushed too, so the rename itself survives a power loss: after a crash the file
/// holds the old contents or the new, whole. Names are plain file names (no directories).
/// Thread-safety: writes of one name are serialized; different names may be written at once.
/// </summary>
public sealed partial class FileNodeStateStore : INodeStateStore
{
    private readonly string _directory;
    private readonly Lock _writing = new();

    public FileNodeStateStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(_directory);
    }

    public byte[]? Read(string name)
    {
        string path = PathOf(name);
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    public void Write(string name, ReadOnlySpan<byte> contents)
    {
        string path = PathOf(name);
        string temporary = path + ".tmp";
        lock (_writing)
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                file.Write(contents);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
            FlushDirectory();
        }
    }

    public void Delete(string name)
    {
        string path = PathOf(name);
        lock (_writing)
        {
            if (File.Exists(path))
            {
                File.Delete(path);
                FlushDirectory();
            }
        }
    }

    public bool Exists(string name) => File.Exists(PathOf(name));

    private string PathOf(string name)
    {
        if (string.IsNullOrEmpty(name) || name.IndexOfAny(['/', '\\']) >= 0 || name is "." or "..")
        {
            throw new ArgumentException($"'{name}' is not a plain file name.", nameof(name));
        }

        return Path.Combine(_directory, name);
    }

    /// <summary>Makes a rename or delete in the directory durable: fsync of the directory itself, which .NET has no API for.</summary>
    private void FlushDirectory()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int descriptor = NativeMethods.Open(_directory, NativeMethods.ReadOnlyDirectory);
        if (descriptor < 0)
        {
            throw new IOException($"Could not open {_directory} to flush it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (NativeMethods.Fsync(descriptor) != 0)
            {
                throw new IOException($"Could not flush {_directory} (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = NativeMethods.Close(descriptor);
        }
    }

    private static partial class NativeMethods
    {
        /// <summary>O_RDONLY | O_DIRECTORY | O_CLOEXEC on Linux.</summary>
        public const int ReadOnlyDirectory = 0x10000 | 0x80000;

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static partial int Fsync(int descriptor);

        [LibraryImport("libc", EntryPoint = "close")]
        public static partial int Close(int descriptor);
    }
}
