using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Dynamite.Protocols.Resp.Scripting;

/// <summary>
/// The function libraries loaded on this node (FUNCTION LOAD), by library and by function name, as redis-server keeps
/// them: per node, not replicated (load them on every node, or restore a FUNCTION DUMP). Changed on the script thread,
/// read by FUNCTION LIST and STATS from any thread, under one lock.
/// </summary>
internal sealed class FunctionLibraries
{
    private static readonly byte[] DumpMagic = "DYNFN1"u8.ToArray();
    private readonly Dictionary<string, FunctionLibrary> _libraries = new(StringComparer.Ordinal);
    // Function names are case-insensitive across libraries (FCALL test finds TEST), library names are not: redis-server's dictionaries.
    private readonly Dictionary<string, FunctionLibrary> _byFunction = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _lock = new();

    public IReadOnlyList<FunctionLibrary> Snapshot()
    {
        lock (_lock)
        {
            return [.. _libraries.Values.OrderBy(l => l.Name, StringComparer.Ordinal)];
        }
    }

    public int FunctionCount
    {
        get
        {
            lock (_lock)
            {
                return _byFunction.Count;
            }
        }
    }

    public FunctionLibrary? LibraryOf(string function)
    {
        lock (_lock)
        {
            return _byFunction.GetValueOrDefault(function);
        }
    }

    /// <summary>
    /// FUNCTION LOAD on the script thread: stages the code, checks it against the libraries loaded, installs it; returns
    /// the library name or an error (starting with ERR).
    /// </summary>
    public (string? Name, string? Error) Load(LuaSandbox sandbox, byte[] code, bool replace, bool restoring = false)
    {
        if (ParseShebang(code) is not { } header)
        {
            return (null, "ERR Missing library metadata");
        }

        if (header.Error is not null)
        {
            return (null, header.Error);
        }

        string name = header.Name!;
        lock (_lock)
        {
            if (_libraries.ContainsKey(name) && !replace)
            {
                // redis-server words the two refusals differently.
                return (null, restoring ? $"ERR Library {name} already exists" : $"ERR Library '{name}' already exists");
            }
        }

        if (sandbox.StageLibrary(header.Body, out List<RegisteredFunction> functions) is { } error)
        {
            return (null, error);
        }

        lock (_lock)
        {
            foreach (RegisteredFunction function in functions)
            {
                if (_byFunction.TryGetValue(function.Name, out FunctionLibrary? owner) && owner.Name != name)
                {
                    return (null, $"ERR Function {function.Name} already exists");
                }
            }

            IEnumerable<string> removed = _libraries.TryGetValue(name, out FunctionLibrary? old) ? old.Functions.Select(f => f.Name) : [];
            sandbox.InstallStaged(removed, functions.Select(f => f.Name));
            if (old is not null)
            {
                foreach (RegisteredFunction function in old.Functions)
                {
                    _byFunction.Remove(function.Name);
                }
            }

            var library = new FunctionLibrary(name, code, functions);
            _libraries[name] = library;
            foreach (RegisteredFunction function in functions)
            {
                _byFunction[function.Name] = library;
            }
        }

        return (name, null);
    }

    /// <summary>FUNCTION DELETE on the script thread; false when there is no such library.</summary>
    public bool Delete(LuaSandbox sandbox, string name)
    {
        lock (_lock)
        {
            if (!_libraries.Remove(name, out FunctionLibrary? library))
            {
                return false;
            }

            foreach (RegisteredFunction function in library.Functions)
            {
                _byFunction.Remove(function.Name);
            }

            sandbox.RemoveFunctions(library.Functions.Select(f => f.Name));
            return true;
        }
    }

    /// <summary>FUNCTION FLUSH on the script thread.</summary>
    public void Flush(LuaSandbox sandbox)
    {
        lock (_lock)
        {
            _libraries.Clear();
            _byFunction.Clear();
            sandbox.FlushFunctions();
        }
    }

    /// <summary>FUNCTION DUMP: every library's code, with a version and a checksum (this node's own format).</summary>
    public byte[] Dump()
    {
        var output = new MemoryStream();
        output.Write(DumpMagic);
        Span<byte> length = stackalloc byte[4];
        foreach (FunctionLibrary library in Snapshot())
        {
            BinaryPrimitives.WriteInt32LittleEndian(length, library.Code.Length);
            output.Write(length);
            output.Write(library.Code);
        }

        Span<byte> checksum = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, XxHash64.HashToUInt64(output.ToArray()));
        output.Write(checksum);
        return output.ToArray();
    }

    /// <summary>The library codes of a FUNCTION DUMP payload; null when its version or checksum is wrong.</summary>
    public static IReadOnlyList<byte[]>? ReadDump(byte[] payload)
    {
        if (payload.Length < DumpMagic.Length + 8 || !payload.AsSpan(0, DumpMagic.Length).SequenceEqual(DumpMagic)
            || BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(payload.Length - 8)) != XxHash64.HashToUInt64(payload.AsSpan(0, payload.Length - 8)))
        {
            return null;
        }

        var codes = new List<byte[]>();
        int position = DumpMagic.Length;
        while (position < payload.Length - 8)
        {
            int length = BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(position));
            position += 4;
            if (length < 0 || position + length > payload.Length - 8)
            {
                return null;
            }

            codes.Add(payload.AsSpan(position, length).ToArray());
            position += length;
        }

        return codes;
    }

    /// <summary>
    /// The <c>#!lua name=lib</c> header, split with redis-server's quoting rules (name="lib" is lib); null when there is
    /// none. Its checks come in redis-server's order: the metadata, then the engine, then the name's characters.
    /// </summary>
    private static LibraryHeader? ParseShebang(byte[] code)
    {
        if (code.Length < 2 || code[0] != (byte)'#' || code[1] != (byte)'!')
        {
            return null;
        }

        int end = Array.IndexOf(code, (byte)'\n');
        if (end < 0)
        {
            return new LibraryHeader(null, [], "ERR Invalid library metadata");
        }

        var parts = new RespRequest();
        try
        {
            if (!InlineArgumentSplitter.TrySplit(code.AsSpan(0, end), parts) || parts.Count == 0)
            {
                return new LibraryHeader(null, [], "ERR Invalid library metadata");
            }

            string engine = Encoding.UTF8.GetString(parts[0][2..]);
            string? name = null;
            for (int i = 1; i < parts.Count; i++)
            {
                string part = Encoding.UTF8.GetString(parts[i]);
                if (!part.StartsWith("name=", StringComparison.OrdinalIgnoreCase))
                {
                    return new LibraryHeader(null, [], $"ERR Invalid metadata value given: {part}");
                }

                if (name is not null)
                {
                    return new LibraryHeader(null, [], "ERR Invalid metadata value, name argument was given multiple times");
                }

                name = part["name=".Length..];
            }

            if (name is null)
            {
                return new LibraryHeader(null, [], "ERR Library name was not given");
            }

            // Engine names are case-insensitive, as in redis-server's engine table.
            if (!engine.Equals("lua", StringComparison.OrdinalIgnoreCase))
            {
                return new LibraryHeader(null, [], $"ERR Engine '{engine}' not found");
            }

            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return new LibraryHeader(null, [], "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
            }

            return new LibraryHeader(name, code[end..], null);
        }
        finally
        {
            parts.Release();
        }
    }

    private sealed record LibraryHeader(string? Name, byte[] Body, string? Error);
}

/// <summary>One loaded library: its name, its code as loaded (with its shebang) and its functions.</summary>
internal sealed record FunctionLibrary(string Name, byte[] Code, IReadOnlyList<RegisteredFunction> Functions);
