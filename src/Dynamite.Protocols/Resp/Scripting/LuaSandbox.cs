using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using KeraLua;

namespace Dynamite.Protocols.Resp.Scripting;

/// <summary>
/// One Lua 5.4 state set up as Redis's scripting environment (<see cref="ScriptPrelude"/>), and the running of one
/// script at a time in it, on the thread that owns it (<see cref="ScriptRunner"/>). Bounded: its allocator refuses to
/// grow past <see cref="MemoryLimitBytes"/> (Lua raises "not enough memory"), and a count hook stops a script that
/// <see cref="AbortReason"/> asks to stop, by yielding the coroutine it runs in, which is then dropped. Native
/// safety: a Lua error unwinds with longjmp, which must never cross a .NET frame, so no host function raises one
/// (they return an error value that the prelude raises), the hook only yields from a yieldable point after returning,
/// and the allocator never refuses while a host function runs.
/// </summary>
internal sealed class LuaSandbox : IDisposable
{
    private const int HookInstructions = 100_000;
    private const int MaxNesting = 200;

    /// <summary>A full collection once the state grew this much since the last one: it stays near its baseline (tens of KiB).</summary>
    private const long CollectAfterGrowthBytes = 24 * 1024;
    private const string ScriptsRegistryKey = "dynamite.scripts";
    private const string FunctionsRegistryKey = "dynamite.functions";
    private const string StagedRegistryKey = "dynamite.staged";
    private const string LibraryEnvRegistryKey = "dynamite.library_env";

    /// <summary>How long a library's own code may run in FUNCTION LOAD (redis-server's limit): it should only register functions.</summary>
    private static readonly TimeSpan LibraryLoadLimit = TimeSpan.FromMilliseconds(500);

    private readonly LuaAlloc _allocator;
    private readonly LuaFunction _call;
    private readonly LuaFunction _sha1;
    private readonly LuaFunction _log;
    private readonly LuaFunction _setResp;
    private readonly LuaFunction _aclCheck;
    private readonly LuaFunction _jsonEncode;
    private readonly LuaFunction _jsonDecode;
    private readonly LuaHookFunction _hook;
    private readonly Lua _lua;
    private long _allocated;
    private long _afterLastCollection;
    private bool _inHostFunction;
    private IScriptHost? _host;
    private volatile string? _abortReason;

    /// <summary>Stopwatch timestamp past which the hook stops the running code (a library load's limit); 0: none.</summary>
    private long _loadDeadline;

    public LuaSandbox(long memoryLimitBytes)
    {
        MemoryLimitBytes = memoryLimitBytes;
        _allocator = Allocate;
        _call = HostCall;
        _sha1 = HostSha1;
        _log = HostLog;
        _setResp = HostSetResp;
        _aclCheck = HostAclCheck;
        _jsonEncode = HostJsonEncode;
        _jsonDecode = HostJsonDecode;
        _hook = Hook;
        _lua = new Lua(_allocator, IntPtr.Zero);
        _lua.OpenLibs();
        // Generational collection: each script's garbage (its coroutine, KEYS and ARGV) dies young.
        _lua.GarbageCollector(LuaGC.Generational, 0, 0);
        _lua.Register("__dyn_call", _call);
        _lua.Register("__dyn_sha1hex", _sha1);
        _lua.Register("__dyn_log", _log);
        _lua.Register("__dyn_setresp", _setResp);
        _lua.Register("__dyn_acl_check", _aclCheck);
        _lua.Register("__dyn_json_encode", _jsonEncode);
        _lua.Register("__dyn_json_decode", _jsonDecode);
        if (_lua.LoadBuffer(Encoding.UTF8.GetBytes(ScriptPrelude.Source), "=prelude") != LuaStatus.OK || _lua.PCall(0, 1, 0) != LuaStatus.OK)
        {
            throw new InvalidOperationException("the scripting prelude failed: " + Text(_lua, -1));
        }

        _lua.SetField((int)LuaRegistry.Index, LibraryEnvRegistryKey);
        _lua.NewTable();
        _lua.SetField((int)LuaRegistry.Index, ScriptsRegistryKey);
        _lua.NewTable();
        _lua.SetField((int)LuaRegistry.Index, FunctionsRegistryKey);
    }

    /// <summary>The most memory the state may hold; a script that needs more fails with Lua's "not enough memory".</summary>
    public long MemoryLimitBytes { get; set; }

    /// <summary>Memory the state holds now.</summary>
    public long AllocatedBytes => Interlocked.Read(ref _allocated);

    /// <summary>Set from any thread to stop the running script at its next hook (SCRIPT KILL, the time limit).</summary>
    public string? AbortReason
    {
        get => _abortReason;
        set => _abortReason = value;
    }

    /// <summary>Compiles a script body under its SHA1 once; null when it compiled, else Redis's compile error.</summary>
    public string? Compile(string sha, byte[] body)
    {
        _lua.GetField(LuaRegistry.Index, ScriptsRegistryKey);
        if (_lua.GetField(-1, sha) == LuaType.Function)
        {
            _lua.Pop(2);
            return null;
        }

        _lua.Pop(1);
        if (_lua.LoadBuffer(body, "@user_script", "t") != LuaStatus.OK)
        {
            string message = Text(_lua, -1);
            _lua.Pop(2);
            return $"ERR Error compiling script (new function): {message}";
        }

        _lua.SetField(-2, sha);
        _lua.Pop(1);
        return null;
    }

    /// <summary>Forgets every loaded function (FUNCTION FLUSH).</summary>
    public void FlushFunctions()
    {
        _lua.NewTable();
        _lua.SetField((int)LuaRegistry.Index, FunctionsRegistryKey);
        _lua.GarbageCollector(LuaGC.Collect, 0);
    }

    /// <summary>Forgets every compiled script (SCRIPT FLUSH) and collects the garbage.</summary>
    public void Flush()
    {
        _lua.NewTable();
        _lua.SetField((int)LuaRegistry.Index, ScriptsRegistryKey);
        _lua.GarbageCollector(LuaGC.Collect, 0);
    }

    /// <summary>
    /// Runs a compiled script with its KEYS and ARGV, writing its reply (or error) to <paramref name="reply"/>; the
    /// caller compiled it first. <see cref="AbortReason"/> is cleared before it starts.
    /// </summary>
    public void Run(string sha, IReadOnlyList<byte[]> keys, IReadOnlyList<byte[]> argv, IScriptHost host, RespWriter reply)
    {
        int top = _lua.GetTop();
        try
        {
            SetGlobalRaw("KEYS", keys);
            SetGlobalRaw("ARGV", argv);
            _lua.GetField((int)LuaRegistry.Index, ScriptsRegistryKey);
            _lua.GetField(-1, sha);
            _lua.Remove(-2);
            Execute(0, host, reply, sha);
        }
        finally
        {
            _lua.SetTop(top);
            SetGlobalRaw("KEYS", null);
            SetGlobalRaw("ARGV", null);
        }
    }

    /// <summary>Sets a global past the globals' protection (a script may not create globals, the host may).</summary>
    private void SetGlobalRaw(string name, IReadOnlyList<byte[]>? values)
    {
        _lua.PushGlobalTable();
        _lua.PushString(name);
        if (values is null)
        {
            _lua.PushNil();
        }
        else
        {
            SetArray(values);
        }

        _lua.RawSet(-3);
        _lua.Pop(1);
    }

    /// <summary>FCALL: runs a loaded function with its KEYS and ARGV as arguments; false when no such function is loaded.</summary>
    public bool CallFunction(string name, IReadOnlyList<byte[]> keys, IReadOnlyList<byte[]> argv, IScriptHost host, RespWriter reply)
    {
        int top = _lua.GetTop();
        try
        {
            _lua.GetField((int)LuaRegistry.Index, FunctionsRegistryKey);
            if (_lua.GetField(-1, name) != LuaType.Function)
            {
                return false;
            }

            _lua.Remove(-2);
            SetArray(keys);
            SetArray(argv);
            Execute(2, host, reply, name);
            return true;
        }
        finally
        {
            _lua.SetTop(top);
        }
    }

    /// <summary>
    /// FUNCTION LOAD's first step: runs a library's code (its shebang line already blanked) in an environment whose
    /// redis.register_function collects functions, and keeps them staged. Null and the functions, or why it failed.
    /// </summary>
    public string? StageLibrary(byte[] code, out List<RegisteredFunction> functions)
    {
        functions = [];
        int top = _lua.GetTop();
        try
        {
            _lua.GetField((int)LuaRegistry.Index, LibraryEnvRegistryKey);
            if (_lua.PCall(0, 4, 0) != LuaStatus.OK)
            {
                return "ERR " + Text(_lua, -1);
            }

            // Stack: env, registered, order, finish.
            int env = _lua.AbsIndex(-4);
            int registered = _lua.AbsIndex(-3);
            int order = _lua.AbsIndex(-2);
            int finish = _lua.AbsIndex(-1);
            if (_lua.LoadBuffer(code, "@user_function", "t") != LuaStatus.OK)
            {
                return "ERR Error compiling function: " + Text(_lua, -1);
            }

            _lua.PushCopy(env);
            _lua.SetUpValue(-2, 1);
            var result = new ReplyBuffer();
            var writer = new RespWriter();
            writer.Attach(result);
            _loadDeadline = Stopwatch.GetTimestamp() + (long)(LibraryLoadLimit.TotalSeconds * Stopwatch.Frequency);
            try
            {
                Execute(0, null, writer, "library");
            }
            finally
            {
                _loadDeadline = 0;
            }

            string? failure = result.WrittenSpan.Length > 0 && result.WrittenSpan[0] == (byte)'-'
                ? System.Text.Encoding.UTF8.GetString(result.WrittenSpan[1..^2])
                : null;
            result.Dispose();
            _lua.PushCopy(finish);
            _lua.PCall(0, 0, 0);
            if (failure is not null)
            {
                return failure.StartsWith("ERR ", StringComparison.Ordinal) ? "ERR Error registering functions: " + failure[4..] : failure;
            }

            _lua.NewTable();
            int staged = _lua.GetTop();
            for (int i = 1; _lua.RawGetInteger(order, i) == LuaType.String; i++)
            {
                string name = Text(_lua, -1);
                _lua.Pop(1);
                _lua.GetField(registered, name);
                int entry = _lua.GetTop();
                _lua.GetField(entry, "callback");
                _lua.SetField(staged, name);
                var flags = new List<string>();
                _lua.GetField(entry, "flags");
                for (int f = 1; _lua.RawGetInteger(-1, f) == LuaType.String; f++)
                {
                    flags.Add(Text(_lua, -1));
                    _lua.Pop(1);
                }

                _lua.Pop(2);
                string? description = _lua.GetField(entry, "description") == LuaType.String ? Text(_lua, -1) : null;
                _lua.Pop(2);
                functions.Add(new RegisteredFunction(name, flags, description));
            }

            _lua.Pop(1);
            _lua.PushCopy(staged);
            _lua.SetField((int)LuaRegistry.Index, StagedRegistryKey);
            return functions.Count == 0 ? "ERR No functions registered" : null;
        }
        finally
        {
            _lua.SetTop(top);
        }
    }

    /// <summary>FUNCTION LOAD's second step, once the names are checked: drops <paramref name="removed"/>, installs what was staged.</summary>
    public void InstallStaged(IEnumerable<string> removed, IEnumerable<string> added)
    {
        int top = _lua.GetTop();
        _lua.GetField((int)LuaRegistry.Index, FunctionsRegistryKey);
        int functions = _lua.GetTop();
        foreach (string name in removed)
        {
            _lua.PushNil();
            _lua.SetField(functions, name);
        }

        _lua.GetField((int)LuaRegistry.Index, StagedRegistryKey);
        int staged = _lua.GetTop();
        foreach (string name in added)
        {
            _lua.GetField(staged, name);
            _lua.SetField(functions, name);
        }

        _lua.SetTop(top);
    }

    /// <summary>Removes loaded functions (FUNCTION DELETE, FLUSH, RESTORE).</summary>
    public void RemoveFunctions(IEnumerable<string> names) => InstallStaged(names, []);

    /// <summary>
    /// Runs the function on top of the stack (below its <paramref name="arguments"/>) in a new coroutine with the hook
    /// set, writing its result or error to <paramref name="reply"/>; the stack is the caller's to reset.
    /// </summary>
    private void Execute(int arguments, IScriptHost? host, RespWriter reply, string name)
    {
        _host = host;
        _abortReason = null;
        try
        {
            Lua thread = _lua.NewThread();
            _lua.Insert(-2 - arguments);
            _lua.XMove(thread, 1 + arguments);
            thread.SetHook(_hook, LuaHookMask.Count, HookInstructions);
            LuaStatus status = thread.Resume(null, arguments, out int results);
            switch (status)
            {
                case LuaStatus.OK:
                    if (results == 0)
                    {
                        reply.WriteNull();
                    }
                    else
                    {
                        WriteValue(thread, thread.GetTop() - results + 1, reply, 0);
                    }

                    break;
                case LuaStatus.Yield:
                    reply.WriteError(_abortReason ?? "ERR script yielded, which scripts may not do");
                    break;
                case LuaStatus.ErrMem:
                    reply.WriteError($"ERR script exceeded the scripting memory limit ({MemoryLimitBytes} bytes) script: {name}");
                    break;
                default:
                    WriteError(thread, name, reply);
                    break;
            }
        }
        finally
        {
            _host = null;
            // Each run leaves its coroutine and argument tables behind: a small step per run keeps the state near its
            // baseline (Redis's own test wants it under 100 KiB after 10,000 scripts), a full collection past half the limit.
            if (AllocatedBytes > MemoryLimitBytes / 2 || AllocatedBytes > _afterLastCollection + CollectAfterGrowthBytes)
            {
                _lua.GarbageCollector(LuaGC.Collect, 0);
                _afterLastCollection = AllocatedBytes;
            }
            else
            {
                _lua.GarbageCollector(LuaGC.Step, 0);
            }
        }
    }

    public void Dispose() => _lua.Dispose();

    /// <summary>Pushes a table of the values (KEYS, ARGV).</summary>
    private void SetArray(IReadOnlyList<byte[]> values)
    {
        _lua.CreateTable(values.Count, 0);
        for (int i = 0; i < values.Count; i++)
        {
            _lua.PushBuffer(values[i]);
            _lua.RawSetInteger(-2, i + 1);
        }
    }

    /// <summary>An error reply's text as sent: one without an error code (an upper-case first word) gets ERR, as in redis-server.</summary>
    private static string WithErrorCode(string message)
    {
        int space = message.IndexOf(' ', StringComparison.Ordinal);
        string first = space < 0 ? message : message[..space];
        bool hasCode = first.Length > 0 && first.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_');
        return hasCode ? message : message.Length == 0 ? "ERR" : "ERR " + message;
    }

    /// <summary>An error the script raised: an error reply table as it is, a message as Redis formats a runtime error.</summary>
    private static void WriteError(Lua thread, string sha, RespWriter reply)
    {
        if (thread.Type(-1) == LuaType.Table)
        {
            int error = thread.AbsIndex(-1);
            thread.PushString("err");
            if (thread.RawGet(error) == LuaType.String)
            {
                string text = WithErrorCode(Text(thread, -1));
                thread.PushString("line");
                if (thread.RawGet(error) == LuaType.Number)
                {
                    // Raised by a failed redis.call: redis-server adds the script and the line of the call.
                    long callLine = thread.ToInteger(-1);
                    thread.PushString("source");
                    string source = thread.RawGet(error) == LuaType.String ? Text(thread, -1) : "@user_script";
                    text = $"{text} script: {sha}, on {source}:{callLine}.";
                }

                reply.WriteError(text);
                return;
            }

            thread.Pop(1);
        }

        string message = thread.Type(-1) is LuaType.String or LuaType.Number ? Text(thread, -1) : "unknown error";
        int line = 0;
        if (message.StartsWith("user_script:", StringComparison.Ordinal))
        {
            string rest = message["user_script:".Length..];
            int colon = rest.IndexOf(':', StringComparison.Ordinal);
            _ = colon > 0 && int.TryParse(rest.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out line);
        }

        reply.WriteError($"ERR {message} script: {sha}, on @user_script:{line}.");
    }

    /// <summary>Redis's Lua-to-RESP conversion of a script's result.</summary>
    private static void WriteValue(Lua lua, int index, RespWriter reply, int depth)
    {
        switch (lua.Type(index))
        {
            case LuaType.String:
                reply.WriteBulk(lua.ToBuffer(index, false));
                return;
            case LuaType.Number:
                reply.WriteInteger(lua.IsInteger(index) ? lua.ToInteger(index) : (long)Math.Truncate(lua.ToNumber(index)));
                return;
            case LuaType.Boolean:
                if (lua.ToBoolean(index))
                {
                    reply.WriteInteger(1);
                }
                else
                {
                    reply.WriteNull();
                }

                return;
            case LuaType.Table when depth < MaxNesting && lua.CheckStack(4):
                WriteTable(lua, lua.AbsIndex(index), reply, depth);
                return;
            case LuaType.Table:
                reply.WriteError("ERR reached lua stack limit");
                return;
            default:
                reply.WriteNull();
                return;
        }
    }

    private static void WriteTable(Lua lua, int index, RespWriter reply, int depth)
    {
        lua.PushString("err");
        if (lua.RawGet(index) == LuaType.String)
        {
            // A returned error reply goes out as the script wrote it (only a raised one gets ERR when it has no code).
            string text = Text(lua, -1);
            reply.WriteError(text.Length == 0 ? "ERR" : text);
            lua.Pop(1);
            return;
        }

        lua.Pop(1);
        lua.PushString("ok");
        if (lua.RawGet(index) == LuaType.String)
        {
            reply.WriteSimpleString(Text(lua, -1));
            lua.Pop(1);
            return;
        }

        lua.Pop(1);
        if (WriteResp3Table(lua, index, reply, depth))
        {
            return;
        }

        int count = 0;
        while (lua.RawGetInteger(index, count + 1) != LuaType.Nil)
        {
            lua.Pop(1);
            count++;
        }

        lua.Pop(1);
        reply.WriteArrayHeader(count);
        for (int i = 1; i <= count; i++)
        {
            lua.RawGetInteger(index, i);
            WriteValue(lua, -1, reply, depth + 1);
            lua.Pop(1);
        }
    }

    /// <summary>The RESP3 shapes a script may return after <c>redis.setresp(3)</c>: {map=...}, {set=...}, {double=...}; false when the table is none of them.</summary>
    private static bool WriteResp3Table(Lua lua, int index, RespWriter reply, int depth)
    {
        lua.PushString("double");
        if (lua.RawGet(index) == LuaType.Number)
        {
            double value = lua.ToNumber(-1);
            lua.Pop(1);
            if (reply.IsResp3)
            {
                reply.WriteRaw(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $",{value:R}\r\n")));
            }
            else
            {
                reply.WriteBulk(Encoding.ASCII.GetBytes(value.ToString("R", CultureInfo.InvariantCulture)));
            }

            return true;
        }

        lua.Pop(1);
        foreach (string shape in (string[])["map", "set"])
        {
            lua.PushString(shape);
            if (lua.RawGet(index) != LuaType.Table)
            {
                lua.Pop(1);
                continue;
            }

            int inner = lua.AbsIndex(-1);
            int pairs = 0;
            lua.PushNil();
            while (lua.Next(inner))
            {
                pairs++;
                lua.Pop(1);
            }

            if (shape == "map")
            {
                reply.WriteMapHeader(pairs);
            }
            else
            {
                reply.WriteSetHeader(pairs);
            }

            lua.PushNil();
            while (lua.Next(inner))
            {
                WriteValue(lua, -2, reply, depth + 1);
                if (shape == "map")
                {
                    WriteValue(lua, -1, reply, depth + 1);
                }

                lua.Pop(1);
            }

            lua.Pop(1);
            return true;
        }

        return false;
    }

    /// <summary>A string or number on the stack as text, without metamethods (which could raise).</summary>
    private static string Text(Lua lua, int index) =>
        lua.Type(index) is LuaType.String or LuaType.Number ? Encoding.UTF8.GetString(lua.ToBuffer(index, false)) : lua.TypeName(lua.Type(index));

    private int HostCall(IntPtr state)
    {
        _inHostFunction = true;
        try
        {
            Lua lua = Lua.FromIntPtr(state);
            int count = lua.GetTop() - 1;
            if (count < 1)
            {
                return Failure(lua, "ERR Please specify at least one argument for this redis lib call");
            }

            if (CommandArguments(lua, first: 2, count) is not { } arguments)
            {
                return Failure(lua, "ERR Lua redis lib command arguments must be strings or integers");
            }

            byte[] reply = _host is { } host ? host.Call(arguments) : "-ERR no script is running\r\n"u8.ToArray();
            int position = 0;
            lua.SetTop(0);
            if (reply.Length > 0 && reply[0] == (byte)'-')
            {
                lua.PushBoolean(false);
                PushReply(lua, reply, ref position, 0);
                return 2;
            }

            lua.PushBoolean(true);
            PushReply(lua, reply, ref position, 0);
            return 2;
        }
        catch (Exception exception)
        {
            // Nothing may propagate into Lua's native frames: a failure is an error reply like any other.
            return Failure(Lua.FromIntPtr(state), "ERR " + exception.Message);
        }
        finally
        {
            _inHostFunction = false;
        }
    }

    private static int Failure(Lua lua, string message)
    {
        lua.SetTop(0);
        lua.PushBoolean(false);
        lua.CreateTable(0, 1);
        lua.PushString(message);
        lua.SetField(-2, "err");
        return 2;
    }

    /// <summary>Redis's RESP-to-Lua conversion of one reply (RESP2, and RESP3 after <c>redis.setresp(3)</c>).</summary>
    private static void PushReply(Lua lua, byte[] reply, ref int position, int depth)
    {
        if (depth > MaxNesting || !lua.CheckStack(4))
        {
            throw new FormatException("a reply nested too deeply");
        }

        byte type = reply[position];
        string line = ReadLine(reply, ref position);
        switch (type)
        {
            case (byte)'+':
                lua.CreateTable(0, 1);
                lua.PushString(line);
                lua.SetField(-2, "ok");
                return;
            case (byte)'-':
                lua.CreateTable(0, 1);
                lua.PushString(line);
                lua.SetField(-2, "err");
                return;
            case (byte)':':
                lua.PushInteger(long.Parse(line, CultureInfo.InvariantCulture));
                return;
            case (byte)',':
                lua.CreateTable(0, 1);
                lua.PushNumber(double.Parse(line, CultureInfo.InvariantCulture));
                lua.SetField(-2, "double");
                return;
            case (byte)'#':
                lua.PushBoolean(line == "t");
                return;
            case (byte)'_':
                lua.PushNil();
                return;
            case (byte)'$' or (byte)'=' or (byte)'(':
            {
                if (type == (byte)'(')
                {
                    lua.CreateTable(0, 1);
                    lua.PushString(line);
                    lua.SetField(-2, "big_number");
                    return;
                }

                int length = int.Parse(line, CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    lua.PushBoolean(false);
                    return;
                }

                byte[] value = reply.AsSpan(position + (type == (byte)'=' ? 4 : 0), length - (type == (byte)'=' ? 4 : 0)).ToArray();
                position += length + 2;
                lua.PushBuffer(value);
                return;
            }

            case (byte)'*' or (byte)'>':
            {
                int count = int.Parse(line, CultureInfo.InvariantCulture);
                if (count < 0)
                {
                    lua.PushBoolean(false);
                    return;
                }

                lua.CreateTable(count, 0);
                for (int i = 1; i <= count; i++)
                {
                    PushReply(lua, reply, ref position, depth + 1);
                    lua.RawSetInteger(-2, i);
                }

                return;
            }

            case (byte)'%' or (byte)'~':
            {
                int count = int.Parse(line, CultureInfo.InvariantCulture);
                lua.CreateTable(0, 1);
                lua.CreateTable(0, count);
                for (int i = 0; i < count; i++)
                {
                    PushReply(lua, reply, ref position, depth + 1);
                    if (type == (byte)'%')
                    {
                        PushReply(lua, reply, ref position, depth + 1);
                    }
                    else
                    {
                        lua.PushBoolean(true);
                    }

                    lua.RawSet(-3);
                }

                lua.SetField(-2, type == (byte)'%' ? "map" : "set");
                return;
            }

            default:
                throw new FormatException($"unexpected reply type '{(char)type}'");
        }
    }

    private static string ReadLine(byte[] reply, ref int position)
    {
        int end = reply.AsSpan(position).IndexOf("\r\n"u8);
        if (end < 0)
        {
            throw new FormatException("a reply line without CRLF");
        }

        string line = Encoding.UTF8.GetString(reply, position + 1, end - 1);
        position += end + 2;
        return line;
    }

    private int HostSha1(IntPtr state)
    {
        _inHostFunction = true;
        try
        {
            Lua lua = Lua.FromIntPtr(state);
            byte[] text = lua.Type(1) is LuaType.String or LuaType.Number ? lua.ToBuffer(1, false) : [];
            lua.PushString(ScriptSha.Of(text));
            return 1;
        }
        finally
        {
            _inHostFunction = false;
        }
    }

    private int HostLog(IntPtr state)
    {
        try
        {
            Lua lua = Lua.FromIntPtr(state);
            _host?.Log((int)lua.ToInteger(1), Text(lua, 2));
        }
        catch (Exception)
        {
            // A log line that could not be written is dropped: nothing may propagate into Lua's native frames.
        }

        return 0;
    }

    /// <summary>
    /// A command's arguments from the Lua stack, <paramref name="count"/> of them from <paramref name="first"/>: strings as
    /// they are, numbers as Redis formats them; null when one is neither.
    /// </summary>
    private static byte[][]? CommandArguments(Lua lua, int first, int count)
    {
        var arguments = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            int index = i + first;
            if (lua.Type(index) == LuaType.String)
            {
                arguments[i] = lua.ToBuffer(index, false);
            }
            else if (lua.Type(index) == LuaType.Number)
            {
                arguments[i] = Encoding.ASCII.GetBytes(lua.IsInteger(index)
                    ? lua.ToInteger(index).ToString(CultureInfo.InvariantCulture)
                    : lua.ToNumber(index).ToString("R", CultureInfo.InvariantCulture));
            }
            else
            {
                return null;
            }
        }

        return arguments;
    }

    /// <summary>
    /// <c>redis.acl_check_cmd</c>'s host half: pushes true or false, or nothing for a command that does not exist (the
    /// prelude raises that error, in Lua). Arguments other than strings and numbers count as not allowed.
    /// </summary>
    private int HostAclCheck(IntPtr state)
    {
        _inHostFunction = true;
        try
        {
            Lua lua = Lua.FromIntPtr(state);
            int count = lua.GetTop();
            if (CommandArguments(lua, first: 1, count) is not { } arguments)
            {
                lua.PushBoolean(false);
                return 1;
            }

            if (count == 0 || _host?.MayRun(arguments) is not { } allowed)
            {
                return 0;
            }

            lua.PushBoolean(allowed);
            return 1;
        }
        finally
        {
            _inHostFunction = false;
        }
    }

    private int HostSetResp(IntPtr state)
    {
        Lua lua = Lua.FromIntPtr(state);
        _host?.SetProtocol((int)lua.ToInteger(1));
        return 0;
    }

    private int HostJsonEncode(IntPtr state)
    {
        _inHostFunction = true;
        try
        {
            Lua lua = Lua.FromIntPtr(state);
            var json = new StringBuilder();
            var settings = new LuaJson.EncodeSettings((int)Math.Clamp(lua.ToInteger(2), 1, 10_000), lua.ToBoolean(3));
            lua.SetTop(1);
            string? error = LuaJson.Encode(lua, 1, json, 0, settings);
            lua.SetTop(0);
            lua.PushBoolean(error is null);
            lua.PushString(error ?? json.ToString());
            return 2;
        }
        finally
        {
            _inHostFunction = false;
        }
    }

    private int HostJsonDecode(IntPtr state)
    {
        _inHostFunction = true;
        try
        {
            Lua lua = Lua.FromIntPtr(state);
            byte[] text = lua.ToBuffer(1, false);
            int maxDepth = (int)Math.Clamp(lua.ToInteger(3), 1, 10_000);
            lua.SetTop(2);
            string? error = LuaJson.Decode(lua, text, nullIndex: 2, maxDepth);
            if (error is not null)
            {
                lua.SetTop(0);
                lua.PushBoolean(false);
                lua.PushString(error);
                return 2;
            }

            lua.PushBoolean(true);
            lua.Insert(-2);
            return 2;
        }
        finally
        {
            _inHostFunction = false;
        }
    }

    private void Hook(IntPtr state, IntPtr debug)
    {
        if (_abortReason is null && _loadDeadline != 0 && Stopwatch.GetTimestamp() > _loadDeadline)
        {
            _abortReason = "ERR FUNCTION LOAD timeout";
        }

        if (_abortReason is null)
        {
            return;
        }

        Lua lua = Lua.FromIntPtr(state);
        // Yielding is only safe where Lua allows it (not inside a metamethod or a library callback); the next hook retries.
        if (lua.IsYieldable)
        {
            lua.Yield(0);
        }
    }

    private IntPtr Allocate(IntPtr ud, IntPtr pointer, UIntPtr oldSize, UIntPtr newSize)
    {
        long old = pointer == IntPtr.Zero ? 0 : (long)oldSize;
        if (newSize == UIntPtr.Zero)
        {
            if (pointer != IntPtr.Zero)
            {
                Marshal.FreeHGlobal(pointer);
                Interlocked.Add(ref _allocated, -old);
            }

            return IntPtr.Zero;
        }

        long delta = (long)newSize - old;
        if (delta > 0 && !_inHostFunction && Interlocked.Read(ref _allocated) + delta > MemoryLimitBytes)
        {
            return IntPtr.Zero;
        }

        try
        {
            IntPtr result = pointer == IntPtr.Zero ? Marshal.AllocHGlobal((nint)newSize) : Marshal.ReAllocHGlobal(pointer, (nint)newSize);
            Interlocked.Add(ref _allocated, delta);
            return result;
        }
        catch (OutOfMemoryException)
        {
            // Lua raises "not enough memory" itself; an exception must not cross its native frames.
            return IntPtr.Zero;
        }
    }
}
