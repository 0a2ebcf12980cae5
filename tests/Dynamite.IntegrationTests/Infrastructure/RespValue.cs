using System.Text;

namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>
/// One reply as read off the wire, kept with its RESP type so that a comparison sees the difference
/// between, say, a status "OK" and a bulk "OK", or RESP2 and RESP3 nulls.
/// </summary>
internal sealed record RespValue(char Type, string? Text, IReadOnlyList<RespValue>? Items)
{
    public bool IsError => Type == '-';

    public bool IsNull => Type == '_' || (Type is '$' or '*' && Text is null && Items is null);

    /// <summary>A one-line rendering used in comparisons and failure messages.</summary>
    public override string ToString()
    {
        switch (Type)
        {
            case '+':
            case '-':
            case ':':
            case ',':
            case '#':
            case '(':
                return Type + Text;
            case '$':
            case '=':
                return Text is null ? Type + "(nil)" : Type + Quote(Text);
            case '_':
                return "_";
            default:
                if (Items is null)
                {
                    return Type + "(nil)";
                }

                var builder = new StringBuilder().Append(Type).Append('[');
                for (int i = 0; i < Items.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(", ");
                    }

                    builder.Append(Items[i]);
                }

                return builder.Append(']').ToString();
        }
    }

    private static string Quote(string text)
    {
        var builder = new StringBuilder("\"");
        foreach (char c in text)
        {
            builder.Append(c switch
            {
                '\r' => "\\r",
                '\n' => "\\n",
                '"' => "\\\"",
                < ' ' or > '~' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return builder.Append('"').ToString();
    }
}
