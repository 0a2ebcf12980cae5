namespace Dynamite.Protocols.Resp;

/// <summary>
/// Redis's glob matching (util.c stringmatchlen), as KEYS, SCAN MATCH and CONFIG GET use it:
/// <c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[^abc]</c>, <c>[a-z]</c> and <c>\</c> escapes. Like Redis it stops
/// trying longer matches for a <c>*</c> once the rest of the pattern failed at the end of the string,
/// and gives up beyond a nesting depth, so a hostile pattern cannot take exponential time.
/// </summary>
public static class GlobPattern
{
    private const int MaxNesting = 1000;

    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase = false)
    {
        bool skipLongerMatches = false;
        return Match(pattern, text, ignoreCase, ref skipLongerMatches, 0);
    }

    /// <summary>True when the pattern matches everything ("*"), so callers can skip matching.</summary>
    public static bool MatchesAll(ReadOnlySpan<byte> pattern) => pattern.Length == 1 && pattern[0] == (byte)'*';

    private static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase, ref bool skipLongerMatches, int nesting)
    {
        if (nesting > MaxNesting)
        {
            return false;
        }

        while (pattern.Length > 0 && text.Length > 0)
        {
            switch (pattern[0])
            {
                case (byte)'*':
                    while (pattern.Length > 1 && pattern[1] == (byte)'*')
                    {
                        pattern = pattern[1..];
                    }

                    if (pattern.Length == 1)
                    {
                        return true;
                    }

                    while (text.Length > 0)
                    {
                        if (Match(pattern[1..], text, ignoreCase, ref skipLongerMatches, nesting + 1))
                        {
                            return true;
                        }

                        if (skipLongerMatches)
                        {
                            return false;
                        }

                        text = text[1..];
                    }

                    skipLongerMatches = true;
                    return false;
                case (byte)'?':
                    text = text[1..];
                    break;
                case (byte)'[':
                {
                    pattern = pattern[1..];
                    bool not = pattern.Length > 0 && pattern[0] == (byte)'^';
                    if (not)
                    {
                        pattern = pattern[1..];
                    }

                    bool matched = false;
                    while (true)
                    {
                        if (pattern.Length > 1 && pattern[0] == (byte)'\\')
                        {
                            pattern = pattern[1..];
                            if (pattern[0] == text[0])
                            {
                                matched = true;
                            }
                        }
                        else if (pattern.Length == 0)
                        {
                            // Unterminated class: Redis treats the end of the pattern as its end.
                            break;
                        }
                        else if (pattern[0] == (byte)']')
                        {
                            break;
                        }
                        else if (pattern.Length >= 3 && pattern[1] == (byte)'-')
                        {
                            byte start = pattern[0];
                            byte end = pattern[2];
                            byte c = text[0];
                            if (start > end)
                            {
                                (start, end) = (end, start);
                            }

                            if (ignoreCase)
                            {
                                start = Lower(start);
                                end = Lower(end);
                                c = Lower(c);
                            }

                            pattern = pattern[2..];
                            if (c >= start && c <= end)
                            {
                                matched = true;
                            }
                        }
                        else if (Equal(pattern[0], text[0], ignoreCase))
                        {
                            matched = true;
                        }

                        pattern = pattern[1..];
                    }

                    if (not)
                    {
                        matched = !matched;
                    }

                    if (!matched)
                    {
                        return false;
                    }

                    text = text[1..];
                    if (pattern.Length == 0)
                    {
                        // The class ran to the end of the pattern; nothing left to step over.
                        return text.Length == 0;
                    }

                    break;
                }

                case (byte)'\\' when pattern.Length >= 2:
                    pattern = pattern[1..];
                    if (!Equal(pattern[0], text[0], ignoreCase))
                    {
                        return false;
                    }

                    text = text[1..];
                    break;
                default:
                    if (!Equal(pattern[0], text[0], ignoreCase))
                    {
                        return false;
                    }

                    text = text[1..];
                    break;
            }

            pattern = pattern[1..];
            if (text.Length == 0)
            {
                while (pattern.Length > 0 && pattern[0] == (byte)'*')
                {
                    pattern = pattern[1..];
                }

                break;
            }
        }

        return pattern.Length == 0 && text.Length == 0;
    }

    private static bool Equal(byte a, byte b, bool ignoreCase) => a == b || (ignoreCase && Lower(a) == Lower(b));

    private static byte Lower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
}
