namespace Dynamite.Protocols.Resp.Scripting;

/// <summary>
/// The Lua that makes a fresh state a Redis scripting environment: the <c>redis</c> table around the host's one call
/// function, Lua 5.1's <c>bit</c> library and <c>unpack</c> on top of Lua 5.4, <c>cjson</c> around the host's codec,
/// and the standard functions Redis does not offer removed (files, processes, modules, loading code); then every table
/// made read-only as Redis 7 makes it. The chunk returns the function that makes a library's loading environment
/// (FUNCTION LOAD), which the host keeps in the registry. Errors are raised
/// here, in Lua, never from a host function: a Lua error unwinds the stack natively, which must not cross .NET frames.
/// </summary>
internal static class ScriptPrelude
{
    public const string Source = """
        local host_call, host_sha1, host_log, host_setresp = __dyn_call, __dyn_sha1hex, __dyn_log, __dyn_setresp
        local host_json_encode, host_json_decode, host_acl_check = __dyn_json_encode, __dyn_json_decode, __dyn_acl_check
        __dyn_call, __dyn_sha1hex, __dyn_log, __dyn_setresp, __dyn_json_encode, __dyn_json_decode, __dyn_acl_check = nil, nil, nil, nil, nil, nil, nil

        redis = {
          LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
          REPL_NONE = 0, REPL_SLAVE = 1, REPL_REPLICA = 1, REPL_AOF = 2, REPL_ALL = 3,
          -- The Redis version this node answers as (RespServer.CompatibleRedisVersion), as redis.REDIS_VERSION says it.
          REDIS_VERSION = "7.0.15", REDIS_VERSION_NUM = 0x07000f,
        }
        local getinfo = debug.getinfo
        function redis.call(...)
          local ok, result = host_call(true, ...)
          if not ok then
            -- As redis-server: a failed call raises its error reply, marked with the script line that made the call.
            -- (Not after "return redis.call(...)": that tail call replaced the script's frame, and its line is gone.)
            local caller = getinfo(2, "Sl")
            if caller and string.sub(caller.source, 1, 6) == "@user_" then result.line = caller.currentline result.source = caller.source end
            error(result, 0)
          end
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
        function redis.acl_check_cmd(...)
          local allowed = host_acl_check(...)
          if allowed == nil then error({ err = "ERR Invalid command passed to redis.acl_check_cmd()" }, 2) end
          return allowed
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
        local json_settings = { encode_depth = 1000, decode_depth = 1000, invalid_numbers = false }
        function cjson.encode(value)
          local ok, result = host_json_encode(value, json_settings.encode_depth, json_settings.invalid_numbers)
          if not ok then error(result, 2) end
          return result
        end
        function cjson.decode(text)
          if type(text) ~= "string" then error("bad argument #1 to 'decode' (string expected)", 2) end
          local ok, result = host_json_decode(text, cjson.null, json_settings.decode_depth)
          if not ok then error(result, 2) end
          return result
        end
        function cjson.encode_max_depth(depth) if depth then json_settings.encode_depth = depth end return json_settings.encode_depth end
        function cjson.decode_max_depth(depth) if depth then json_settings.decode_depth = depth end return json_settings.decode_depth end
        function cjson.encode_invalid_numbers(on) if on ~= nil then json_settings.invalid_numbers = on and true or false end return json_settings.invalid_numbers end
        function cjson.decode_invalid_numbers(on) return true end
        function cjson.encode_keep_buffer(on) return true end
        function cjson.encode_number_precision(precision) return 14 end
        function cjson.encode_sparse_array() return false, 2, 10 end

        -- cmsgpack, as Redis's lua-cmsgpack encodes: the smallest integer form, float32 when exact, tables nested 16 deep.
        cmsgpack = {}
        local spack, sunpack, schar, sbyte = string.pack, string.unpack, string.char, string.byte
        local function mp_int(n)
          if n >= 0 then
            if n <= 127 then return schar(n)
            elseif n <= 0xff then return "\xcc" .. schar(n)
            elseif n <= 0xffff then return "\xcd" .. spack(">I2", n)
            elseif n <= 0xffffffff then return "\xce" .. spack(">I4", n)
            else return "\xcf" .. spack(">i8", n) end
          else
            if n >= -32 then return schar(0x100 + n)
            elseif n >= -128 then return "\xd0" .. spack(">i1", n)
            elseif n >= -32768 then return "\xd1" .. spack(">i2", n)
            elseif n >= -2147483648 then return "\xd2" .. spack(">i4", n)
            else return "\xd3" .. spack(">i8", n) end
          end
        end
        local function mp_len(n, fix, limit, c16, c32)
          if n <= limit then return schar(fix + n)
          elseif n <= 0xffff then return c16 .. spack(">I2", n)
          else return c32 .. spack(">I4", n) end
        end
        local mp_encode
        local function mp_table(t, level, out)
          local count, max, array = 0, 0, true
          for k in pairs(t) do
            count = count + 1
            if math.type(k) == "integer" and k > 0 then
              if k > max then max = k end
            elseif type(k) == "number" and k > 0 and math.floor(k) == k then
              if k > max then max = math.tointeger(k) end
            else
              array = false
            end
          end
          if array and max == count then
            out[#out + 1] = mp_len(count, 0x90, 15, "\xdc", "\xdd")
            for i = 1, count do mp_encode(t[i], level + 1, out) end
          else
            -- Keys in a fixed order (numbers, then strings, each ascending), so one table always packs the same bytes.
            local keys = {}
            for k in pairs(t) do keys[#keys + 1] = k end
            table.sort(keys, function(a, b)
              local ta, tb = type(a), type(b)
              if ta ~= tb then return ta < tb end
              if ta == "number" or ta == "string" then return a < b end
              return tostring(a) < tostring(b)
            end)
            out[#out + 1] = mp_len(count, 0x80, 15, "\xde", "\xdf")
            for _, k in ipairs(keys) do mp_encode(k, level + 1, out) mp_encode(t[k], level + 1, out) end
          end
        end
        mp_encode = function(v, level, out)
          local t = type(v)
          if t == "nil" then out[#out + 1] = "\xc0"
          elseif t == "boolean" then out[#out + 1] = v and "\xc3" or "\xc2"
          elseif t == "number" then
            local i = math.tointeger(v)
            if i then out[#out + 1] = mp_int(i)
            elseif string.unpack("f", string.pack("f", v)) == v then out[#out + 1] = "\xca" .. spack(">f", v)
            else out[#out + 1] = "\xcb" .. spack(">d", v) end
          elseif t == "string" then
            local n = #v
            if n < 32 then out[#out + 1] = schar(0xa0 + n)
            elseif n <= 0xff then out[#out + 1] = "\xd9" .. schar(n)
            elseif n <= 0xffff then out[#out + 1] = "\xda" .. spack(">I2", n)
            else out[#out + 1] = "\xdb" .. spack(">I4", n) end
            out[#out + 1] = v
          elseif t == "table" and level < 16 then mp_table(v, level, out)
          else out[#out + 1] = "\xc0" end
        end
        function cmsgpack.pack(...)
          local n = select("#", ...)
          if n == 0 then error("MessagePack pack needs input.", 2) end
          local out = {}
          for i = 1, n do mp_encode((select(i, ...)), 0, out) end
          return table.concat(out)
        end
        local mp_decode
        local function mp_items(s, pos, count, map)
          local t = {}
          for i = 1, count do
            local k, v
            if map then k, pos = mp_decode(s, pos) v, pos = mp_decode(s, pos) if k ~= nil then t[k] = v end
            else v, pos = mp_decode(s, pos) t[i] = v end
          end
          return t, pos
        end
        mp_decode = function(s, pos)
          local c = sbyte(s, pos)
          if c == nil then error("Missing bytes in input.", 0) end
          pos = pos + 1
          if c <= 0x7f then return c, pos
          elseif c >= 0xe0 then return c - 0x100, pos
          elseif c >= 0xa0 and c <= 0xbf then local n = c - 0xa0 return string.sub(s, pos, pos + n - 1), pos + n
          elseif c >= 0x90 and c <= 0x9f then return mp_items(s, pos, c - 0x90, false)
          elseif c >= 0x80 and c <= 0x8f then return mp_items(s, pos, c - 0x80, true)
          elseif c == 0xc0 then return nil, pos
          elseif c == 0xc2 then return false, pos
          elseif c == 0xc3 then return true, pos
          elseif c == 0xca then return sunpack(">f", s, pos)
          elseif c == 0xcb then return sunpack(">d", s, pos)
          elseif c == 0xcc then return sunpack(">I1", s, pos)
          elseif c == 0xcd then return sunpack(">I2", s, pos)
          elseif c == 0xce then return sunpack(">I4", s, pos)
          elseif c == 0xcf then return sunpack(">i8", s, pos)
          elseif c == 0xd0 then return sunpack(">i1", s, pos)
          elseif c == 0xd1 then return sunpack(">i2", s, pos)
          elseif c == 0xd2 then return sunpack(">i4", s, pos)
          elseif c == 0xd3 then return sunpack(">i8", s, pos)
          elseif c == 0xd9 or c == 0xc4 then local n n, pos = sunpack(">I1", s, pos) return string.sub(s, pos, pos + n - 1), pos + n
          elseif c == 0xda or c == 0xc5 then local n n, pos = sunpack(">I2", s, pos) return string.sub(s, pos, pos + n - 1), pos + n
          elseif c == 0xdb or c == 0xc6 then local n n, pos = sunpack(">I4", s, pos) return string.sub(s, pos, pos + n - 1), pos + n
          elseif c == 0xdc then local n n, pos = sunpack(">I2", s, pos) return mp_items(s, pos, n, false)
          elseif c == 0xdd then local n n, pos = sunpack(">I4", s, pos) return mp_items(s, pos, n, false)
          elseif c == 0xde then local n n, pos = sunpack(">I2", s, pos) return mp_items(s, pos, n, true)
          elseif c == 0xdf then local n n, pos = sunpack(">I4", s, pos) return mp_items(s, pos, n, true)
          else error("Bad data format in input.", 0) end
        end
        local function mp_unpack(s, limit, offset)
          if type(s) ~= "string" then error("bad argument #1 to 'unpack' (string expected)", 3) end
          local pos, values, count = (offset or 0) + 1, {}, 0
          while pos <= #s and (limit == 0 or count < limit) do
            local v
            v, pos = mp_decode(s, pos)
            count = count + 1
            values[count] = v
          end
          return (pos > #s) and -1 or (pos - 1), values, count
        end
        function cmsgpack.unpack(s)
          local _, values, count = mp_unpack(s, 0, 0)
          return table.unpack(values, 1, count)
        end
        function cmsgpack.unpack_one(s, offset)
          local next_offset, values, count = mp_unpack(s, 1, offset)
          return next_offset, table.unpack(values, 1, count)
        end
        function cmsgpack.unpack_limit(s, limit, offset)
          local next_offset, values, count = mp_unpack(s, limit, offset)
          return next_offset, table.unpack(values, 1, count)
        end

        -- Read-only tables, as Redis 7 (applied at the end): a library table becomes an empty proxy over the real one.
        local function readonly_error() error("Attempt to modify a readonly table", 2) end
        local frozen = setmetatable({}, { __newindex = readonly_error, __metatable = false })
        local function readonly(real)
          return setmetatable({}, {
            __index = real, __newindex = readonly_error, __metatable = frozen,
            __pairs = function() return next, real, nil end, __len = function() return #real end,
          })
        end

        -- FUNCTION LOAD: a library's code runs in its own environment, as in Redis 7: while it loads, its only global is
        -- a redis table holding register_function, log and the version constants, and anything else is a nonexistent
        -- global; once loaded, its functions see the scripts' globals (where redis.register_function does not exist).
        local real_redis = redis
        local function nonexistent(_, name) error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2) end
        local known_flags = { ["no-writes"] = true, ["allow-oom"] = true, ["allow-stale"] = true, ["no-cluster"] = true, ["allow-cross-slot-keys"] = true }
        local function library_env()
          local registered, order, folded, loading = {}, {}, {}, true
          local function register(...)
            if not loading then error("redis.register_function can only be called on FUNCTION LOAD command", 2) end
            local argc = select("#", ...)
            if argc < 1 or argc > 2 then error("wrong number of arguments to redis.register_function", 2) end
            local first, second = ...
            local name, callback, flags, description
            if argc == 1 then
              if type(first) ~= "table" then
                error("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).", 2)
              end
              for key, value in pairs(first) do
                if type(key) ~= "string" then error("named argument key given to redis.register_function is not a string", 2) end
                local lower = string.lower(key)
                if lower == "function_name" then
                  if type(value) ~= "string" and type(value) ~= "number" then error("function_name argument given to redis.register_function must be a string", 2) end
                  name = tostring(value)
                elseif lower == "description" then
                  if type(value) ~= "string" and type(value) ~= "number" then error("description argument given to redis.register_function must be a string", 2) end
                  description = tostring(value)
                elseif lower == "callback" then
                  if type(value) ~= "function" then error("callback argument given to redis.register_function must be a function", 2) end
                  callback = value
                elseif lower == "flags" then
                  if type(value) ~= "table" then error("flags argument to redis.register_function must be a table representing function flags", 2) end
                  flags = value
                else
                  error("unknown argument given to redis.register_function", 2)
                end
              end
              if name == nil then error("redis.register_function must get a function name argument", 2) end
              if callback == nil then error("redis.register_function must get a callback argument", 2) end
            else
              if type(first) ~= "string" and type(first) ~= "number" then error("first argument to redis.register_function must be a string", 2) end
              if type(second) ~= "function" then error("second argument to redis.register_function must be a function", 2) end
              name, callback = tostring(first), second
            end
            if not string.match(name, "^[%w_]+$") then error("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long", 2) end
            -- Function names are case-insensitive across the node (FCALL), so f and F in one library clash.
            if registered[name] or folded[string.lower(name)] then error("Function already exists in the library", 2) end
            folded[string.lower(name)] = true
            local flag_list = {}
            for _, flag in ipairs(flags or {}) do
              if not known_flags[flag] then error("unknown flag given", 2) end
              flag_list[#flag_list + 1] = flag
            end
            registered[name] = { callback = callback, flags = flag_list, description = description }
            order[#order + 1] = name
          end
          local api = setmetatable({
            register_function = register, log = real_redis.log,
            LOG_DEBUG = real_redis.LOG_DEBUG, LOG_VERBOSE = real_redis.LOG_VERBOSE,
            LOG_NOTICE = real_redis.LOG_NOTICE, LOG_WARNING = real_redis.LOG_WARNING,
            REDIS_VERSION = real_redis.REDIS_VERSION, REDIS_VERSION_NUM = real_redis.REDIS_VERSION_NUM,
          }, { __index = nonexistent })
          local api_view = readonly(api)
          local scope = { __index = function(_, name) if name == "redis" then return api_view end nonexistent(_, name) end }
          local env = setmetatable({}, {
            __index = function(t, name) return scope.__index(t, name) end,
            __newindex = readonly_error, __metatable = frozen,
          })
          local function finish()
            loading = false
            scope.__index = function(_, name) return _G[name] end
          end
          return env, registered, order, finish
        end

        unpack = table.unpack
        local load_text = load
        function loadstring(text, name)
          -- Text only: a precompiled (binary) chunk is refused, as Redis refuses it.
          if type(text) ~= "string" or string.sub(text, 1, 1) == "\27" then return nil, "binary chunks are not allowed" end
          return load_text(text, name, "t")
        end
        os = { clock = os.clock }
        io, package, require, dofile, loadfile, load, debug, collectgarbage, print = nil, nil, nil, nil, nil, nil, nil, nil, nil

        -- Every library table and the globals themselves refuse changes, and a script reads only globals that exist: the
        -- globals move to a hidden table behind _G's protected metatable (KEYS and ARGV are set raw into _G by the host).
        local raw_setmetatable = setmetatable
        function setmetatable(t, mt)
          if getmetatable(t) ~= nil and type(t) == "table" and rawequal(getmetatable(t), frozen) then readonly_error() end
          return raw_setmetatable(t, mt)
        end
        for _, name in ipairs({ "redis", "cjson", "cmsgpack", "bit", "string", "math", "table", "os", "coroutine", "utf8" }) do
          _G[name] = readonly(_G[name])
        end
        getmetatable("").__metatable = frozen
        local G, raw_set, all_pairs = _G, rawset, pairs
        local globals = {}
        for name, value in all_pairs(G) do globals[name] = value end
        for name in all_pairs(globals) do raw_set(G, name, nil) end
        raw_setmetatable(G, {
          __index = function(_, name)
            local value = globals[name]
            if value == nil then error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2) end
            return value
          end,
          __newindex = readonly_error,
          __metatable = frozen,
        })

        return library_env
        """;
}
