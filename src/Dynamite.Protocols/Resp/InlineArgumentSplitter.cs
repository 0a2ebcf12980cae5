namespace Dynamite.Protocols.Resp;

/// <summary>
/// Splits an inline request line into arguments with the quoting rules of Redis's sdssplitargs:
/// double quotes with C escapes (\n \r \t \b \a \xHH), single quotes with only \' escaped,
/// and a closing quote that must be followed by a space or the end of the line.
/// </summary>
internal static class InlineArgumentSplitter
{
    public static bool TrySplit(ReadOnlySpan<byte> line, RespRequest request)
    {
        var current = new List<byte>();
        int i = 0;
        while (true)
        {
            while (i < line.Length && IsSpace(line[i]))
            {
                i++;
            }

            if (i >= line.Length)
            {
                return true;
            }

            current.Clear();
            bool inDoubleQuotes = false;
            bool inSingleQuotes = false;
            bool done = false;
            while (!done)
            {
                if (inDoubleQuotes)
                {
                    if (i >= line.Length)
                    {
                        return false;
                    }

                    if (line[i] == (byte)'\\' && i + 3 < line.Length && line[i + 1] == (byte)'x' && IsHex(line[i + 2]) && IsHex(line[i + 3]))
                    {
                        current.Add((byte)((HexValue(line[i + 2]) << 4) | HexValue(line[i + 3])));
                        i += 3;
                    }
                    else if (line[i] == (byte)'\\' && i + 1 < line.Length)
                    {
                        i++;
                        current.Add(line[i] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            _ => line[i],
                        });
                    }
                    else if (line[i] == (byte)'"')
                    {
                        if (i + 1 < line.Length && !IsSpace(line[i + 1]))
                        {
                            return false;
                        }

                        done = true;
                    }
                    else
                    {
                        current.Add(line[i]);
                    }
                }
                else if (inSingleQuotes)
                {
                    if (i >= line.Length)
                    {
                        return false;
                    }

                    if (line[i] == (byte)'\\' && i + 1 < line.Length && line[i + 1] == (byte)'\'')
                    {
                        i++;
                        current.Add((byte)'\'');
                    }
                    else if (line[i] == (byte)'\'')
                    {
                        if (i + 1 < line.Length && !IsSpace(line[i + 1]))
                        {
                            return false;
                        }

                        done = true;
                    }
                    else
                    {
                        current.Add(line[i]);
                    }
                }
                else if (i >= line.Length)
                {
                    done = true;
                }
                else
                {
                    switch (line[i])
                    {
                        case (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or 0:
                            done = true;
                            break;
                        case (byte)'"':
                            inDoubleQuotes = true;
                            break;
                        case (byte)'\'':
                            inSingleQuotes = true;
                            break;
                        default:
                            current.Add(line[i]);
                            break;
                    }
                }

                if (i < line.Length)
                {
                    i++;
                }
            }

            request.Add(current.ToArray(), owned: true);
        }
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    private static bool IsHex(byte b) => b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f') or (>= (byte)'A' and <= (byte)'F');

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        _ => b - 'A' + 10,
    };
}
