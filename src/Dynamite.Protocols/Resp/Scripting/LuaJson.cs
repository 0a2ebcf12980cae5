using System.Globalization;
using System.Text;
using System.Text.Json;
using KeraLua;

namespace Dynamite.Protocols.Resp.Scripting;

/// <summary>
/// <c>cjson.encode</c> and <c>cjson.decode</c> for scripts, over System.Text.Json: a table whose keys are 1..n is an
/// array, any other table an object (string and number keys); <c>cjson.null</c> and JSON null map to each other.
/// Errors come back as text for the prelude to raise: nothing here raises a Lua error (see <see cref="LuaSandbox"/>).
/// </summary>
internal static class LuaJson
{
    /// <summary>cjson's settings: the deepest nesting encoded, and whether NaN and infinities encode (as nan, inf, -inf).</summary>
    public readonly record struct EncodeSettings(int MaxDepth, bool InvalidNumbers);

    /// <summary>Appends the value at <paramref name="index"/> as JSON; null when done, else why it cannot be encoded.</summary>
    public static string? Encode(Lua lua, int index, StringBuilder json, int depth, EncodeSettings settings)
    {
        index = lua.AbsIndex(index);
        switch (lua.Type(index))
        {
            case LuaType.Nil:
                json.Append("null");
                return null;
            case LuaType.Boolean:
                json.Append(lua.ToBoolean(index) ? "true" : "false");
                return null;
            case LuaType.Number:
                if (lua.IsInteger(index))
                {
                    json.Append(lua.ToInteger(index).ToString(CultureInfo.InvariantCulture));
                    return null;
                }

                double number = lua.ToNumber(index);
                if (double.IsNaN(number) || double.IsInfinity(number))
                {
                    if (!settings.InvalidNumbers)
                    {
                        return "Cannot serialise number: must not be NaN or Inf";
                    }

                    json.Append(double.IsNaN(number) ? "nan" : number > 0 ? "inf" : "-inf");
                    return null;
                }

                json.Append(number.ToString("0.##############", CultureInfo.InvariantCulture));
                return null;
            case LuaType.String:
                json.Append(JsonSerializer.Serialize(Encoding.UTF8.GetString(lua.ToBuffer(index, false))));
                return null;
            case LuaType.Table when depth >= settings.MaxDepth || !lua.CheckStack(4):
                return $"Cannot serialise, excessive nesting ({depth + 1})";
            case LuaType.Table:
                return EncodeTable(lua, index, json, depth, settings);
            default:
                // cjson.null is an empty table with a metatable: tables are handled above, so anything else is refused.
                return $"Cannot serialise {lua.TypeName(lua.Type(index))}: type not supported";
        }
    }

    private static string? EncodeTable(Lua lua, int index, StringBuilder json, int depth, EncodeSettings settings)
    {
        // cjson.null: an empty table whose metatable's __tostring gives "null".
        if (lua.GetMetaTable(index))
        {
            lua.Pop(1);
            json.Append("null");
            return null;
        }

        int length = 0;
        bool array = true;
        int keys = 0;
        lua.PushNil();
        while (lua.Next(index))
        {
            keys++;
            if (lua.Type(-2) != LuaType.Number || !lua.IsInteger(-2) || lua.ToInteger(-2) < 1)
            {
                array = false;
            }
            else
            {
                length = (int)Math.Max(length, lua.ToInteger(-2));
            }

            lua.Pop(1);
        }

        if (array && keys == length && keys > 0)
        {
            json.Append('[');
            for (int i = 1; i <= length; i++)
            {
                if (i > 1)
                {
                    json.Append(',');
                }

                lua.RawGetInteger(index, i);
                string? error = Encode(lua, -1, json, depth + 1, settings);
                lua.Pop(1);
                if (error is not null)
                {
                    return error;
                }
            }

            json.Append(']');
            return null;
        }

        json.Append('{');
        bool first = true;
        lua.PushNil();
        while (lua.Next(index))
        {
            if (lua.Type(-2) is not (LuaType.String or LuaType.Number))
            {
                lua.Pop(2);
                return "Cannot serialise table: table key must be a number or string";
            }

            if (!first)
            {
                json.Append(',');
            }

            first = false;
            // Copy the key before reading it as text: converting a number key in place would confuse Next.
            lua.PushCopy(-2);
            json.Append(JsonSerializer.Serialize(Encoding.UTF8.GetString(lua.ToBuffer(-1, false)))).Append(':');
            lua.Pop(1);
            string? error = Encode(lua, -1, json, depth + 1, settings);
            lua.Pop(1);
            if (error is not null)
            {
                lua.Pop(1);
                return error;
            }
        }

        json.Append('}');
        return null;
    }

    /// <summary>Pushes the decoded value; null when done, else why the text is not JSON (nothing pushed).</summary>
    public static string? Decode(Lua lua, byte[] text, int nullIndex, int maxDepth)
    {
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = maxDepth });
            return Push(lua, document.RootElement, lua.AbsIndex(nullIndex), 0);
        }
        catch (JsonException exception)
        {
            return exception.Message.Contains("depth", StringComparison.OrdinalIgnoreCase)
                ? $"Found too many nested data structures ({maxDepth + 1})"
                : "Expected value but found invalid token: " + exception.Message;
        }
    }

    private static string? Push(Lua lua, JsonElement element, int nullIndex, int depth)
    {
        if (!lua.CheckStack(4))
        {
            return "Found too many nested data structures";
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Null:
                lua.PushCopy(nullIndex);
                return null;
            case JsonValueKind.True or JsonValueKind.False:
                lua.PushBoolean(element.ValueKind == JsonValueKind.True);
                return null;
            case JsonValueKind.Number:
                // Redis's Lua 5.1 has one number type, so 0.0 and -5e3 read back as 0 and -5000: integral values become integers.
                double value = element.GetDouble();
                if (element.TryGetInt64(out long integer))
                {
                    lua.PushInteger(integer);
                }
                else if (Math.Floor(value) == value && Math.Abs(value) < 9.007199254740992E15)
                {
                    lua.PushInteger((long)value);
                }
                else
                {
                    lua.PushNumber(value);
                }

                return null;
            case JsonValueKind.String:
                lua.PushBuffer(Encoding.UTF8.GetBytes(element.GetString() ?? ""));
                return null;
            case JsonValueKind.Array:
            {
                lua.CreateTable(element.GetArrayLength(), 0);
                int i = 1;
                foreach (JsonElement item in element.EnumerateArray())
                {
                    if (Push(lua, item, nullIndex, depth + 1) is { } error)
                    {
                        lua.Pop(1);
                        return error;
                    }

                    lua.RawSetInteger(-2, i++);
                }

                return null;
            }

            default:
            {
                lua.NewTable();
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    lua.PushBuffer(Encoding.UTF8.GetBytes(property.Name));
                    if (Push(lua, property.Value, nullIndex, depth + 1) is { } error)
                    {
                        lua.Pop(2);
                        return error;
                    }

                    lua.RawSet(-3);
                }

                return null;
            }
        }
    }
}
