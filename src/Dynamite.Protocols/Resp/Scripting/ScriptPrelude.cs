namespace Dynamite.Protocols.Resp.Scripting;

/// <summary>
/// The Lua that makes a fresh state a Redis scripting environment: the <c>redis</c> table around the host's one call
/// function, Lua 5.1's <c>bit</c> library and <c>unpack</c> on top of Lua 5.4, <c>cjson</c> around the host's codec,
/// and the standard functions Redis does not offer removed (files, processes, modules, loading code). Errors are raised
/// here, in Lua, never from a host function: a Lua error unwinds the stack natively, which must not cross .NET frames.
/// </summary>
internal static class ScriptPrelude
{
    public const string Source = """
        local host_call, host_sha1, host_log, host_setresp = __dyn_call, __dyn_sha1hex, __dyn_log, __dyn_setresp
        local host_json_encode, host_json_decode = __dyn_json_encode, __dyn_json_decode
        __dyn_call, __dyn_sha1hex, __dyn_log, __dyn_setresp, __dyn_json_encode, __dyn_json_decode = nil, nil, nil, nil, nil, nil

        redis = {
          LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
          REPL_NONE = 0, REPL_SLAVE = 1, REPL_REPLICA = 1, REPL_AOF = 2, REPL_ALL = 3,
        }
        function redis.call(...)
          local ok, result = host_call(true, ...)
          if not ok then error(result, 0) end
          return result
        end
        function redis.pcall(...)
          local ok, result = host_call(false, ...)
          return result
        end
        function redis.error_reply(message)
          if type(message) ~= "string" then error("wrong number or type of arguments", 2) end
          return { err = message }
        end
        function redis.status_reply(message)
          if type(message) ~= "string" then error("wrong number or type of arguments", 2) end
          return { ok = message }
        end
        function redis.sha1hex(text)
          if text == nil then error("wrong number of arguments", 2) end
          return host_sha1(tostring(text))
        end
        function redis.log(level, ...)
          if type(level) ~= "number" then error("First argument must be a number (log level).", 2) end
          local parts = {}
          for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
          host_log(level, table.concat(parts, " "))
        end
        function redis.setresp(version)
          if version ~= 2 and version ~= 3 then error("RESP version must be 2 or 3.", 2) end
          host_setresp(version)
        end
        function redis.set_repl(mode) end
        function redis.replicate_commands() return true end
        function redis.breakpoint() return false end
        function redis.debug() end

        local function tobit(x)
          x = math.tointeger(x) or math.floor(x)
          x = x & 0xffffffff
          if x >= 0x80000000 then x = x - 0x100000000 end
          return x
        end
        bit = { tobit = tobit }
        function bit.band(x, ...) local r = tobit(x) for _, v in ipairs({...}) do r = r & tobit(v) end return tobit(r) end
        function bit.bor(x, ...) local r = tobit(x) for _, v in ipairs({...}) do r = r | tobit(v) end return tobit(r) end
        function bit.bxor(x, ...) local r = tobit(x) for _, v in ipairs({...}) do r = r ~ tobit(v) end return tobit(r) end
        function bit.bnot(x) return tobit(~tobit(x)) end
        function bit.lshift(x, n) return tobit(tobit(x) << (tobit(n) & 31)) end
        function bit.rshift(x, n) return tobit((tobit(x) & 0xffffffff) >> (tobit(n) & 31)) end
        function bit.arshift(x, n) return tobit(tobit(x) // (1 << (tobit(n) & 31))) end
        function bit.rol(x, n) n = tobit(n) & 31 local u = tobit(x) & 0xffffffff return tobit((u << n) | (u >> (32 - n))) end
        function bit.ror(x, n) n = tobit(n) & 31 local u = tobit(x) & 0xffffffff return tobit((u >> n) | (u << (32 - n))) end
        function bit.bswap(x)
          local u = tobit(x) & 0xffffffff
          return tobit(((u & 0xff) << 24) | ((u & 0xff00) << 8) | ((u >> 8) & 0xff00) | (u >> 24))
        end
        function bit.tohex(x, n)
          n = n or 8
          local upper = n < 0
          if upper then n = -n end
          local s = string.format(upper and "%08X" or "%08x", tobit(x) & 0xffffffff)
          return string.sub(s, 9 - n)
        end

        cjson = { null = setmetatable({}, { __tostring = function() return "null" end }) }
        function cjson.encode(value)
          local ok, result = host_json_encode(value)
          if not ok then error(result, 2) end
          return result
        end
        function cjson.decode(text)
          if type(text) ~= "string" then error("bad argument #1 to 'decode' (string expected)", 2) end
          local ok, result = host_json_decode(text, cjson.null)
          if not ok then error(result, 2) end
          return result
        end

        unpack = table.unpack
        os = { clock = os.clock }
        io, package, require, dofile, loadfile, load, debug, collectgarbage = nil, nil, nil, nil, nil, nil, nil, nil
        """;
}
