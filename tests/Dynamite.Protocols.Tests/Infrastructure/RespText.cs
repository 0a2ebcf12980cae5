using System.Text;

namespace Dynamite.Protocols.Tests.Infrastructure;

/// <summary>Requests as a client sends them, and the one timeout the in-memory connection tests wait for.</summary>
internal static class RespText
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>One multibulk request.</summary>
    public static string Command(params string[] arguments)
    {
        var text = new StringBuilder().Append('*').Append(arguments.Length).Append("\r\n");
        foreach (string argument in arguments)
        {
            text.Append('$').Append(Encoding.UTF8.GetByteCount(argument)).Append("\r\n").Append(argument).Append("\r\n");
        }

        return text.ToString();
    }
}
