using System.Globalization;
using System.Text;

namespace Dynamite.Protocols.Resp.PubSub;

/// <summary>
/// MONITOR: every command this node runs, as redis-server prints it (<c>+1339518083.107412 [0 127.0.0.1:60866]
/// "set" "k" "v"</c>), pushed to each monitoring client's <see cref="ClientOutbox"/> under the pub/sub output limit.
/// Costs one volatile read per command while nobody monitors. Like redis-server, AUTH and HELLO's passwords are not
/// shown, nor are administrative commands.
/// </summary>
public sealed class MonitorFeed
{
    private readonly Lock _lock = new();
    private volatile ClientSession[] _monitors = [];

    /// <summary>True while at least one client monitors.</summary>
    public bool Active => _monitors.Length > 0;

    public int Count => _monitors.Length;

    public void Add(ClientSession client)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.EnsureOutbox();
        lock (_lock)
        {
            if (!client.IsMonitor)
            {
                client.IsMonitor = true;
                _monitors = [.. _monitors, client];
            }
        }
    }

    public void Remove(ClientSession client)
    {
        ArgumentNullException.ThrowIfNull(client);
        lock (_lock)
        {
            if (client.IsMonitor)
            {
                client.IsMonitor = false;
                _monitors = [.. _monitors.Where(c => c != client)];
            }
        }
    }

    /// <summary>Pushes one line for a command <paramref name="client"/> runs (arguments from <paramref name="request"/>).</summary>
    public void Feed(ClientSession client, RespRequest request, long nowMicroseconds, OutputBufferLimit limit, bool redactArguments)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(request);
        ClientSession[] monitors = _monitors;
        if (monitors.Length == 0)
        {
            return;
        }

        byte[] line = Format(client.RemoteAddress, request, nowMicroseconds, redactArguments);
        long nowMs = nowMicroseconds / 1000;
        foreach (ClientSession monitor in monitors)
        {
            monitor.Outbox?.TryPush(line, limit, nowMs);
        }
    }

    private static byte[] Format(string address, RespRequest request, long nowMicroseconds, bool redactArguments)
    {
        var line = new StringBuilder(64);
        line.Append('+')
            .Append((nowMicroseconds / 1_000_000).ToString(CultureInfo.InvariantCulture)).Append('.')
            .Append((nowMicroseconds % 1_000_000).ToString("D6", CultureInfo.InvariantCulture))
            .Append(" [0 ").Append(address).Append(']');
        for (int i = 0; i < request.Count; i++)
        {
            line.Append(' ');
            if (redactArguments && i > 0)
            {
                line.Append("\"(redacted)\"");
                continue;
            }

            AppendQuoted(line, request[i]);
        }

        line.Append("\r\n");
        return Encoding.UTF8.GetBytes(line.ToString());
    }

    /// <summary>redis-server's sdscatrepr: printable bytes as they are, escapes for quotes and control bytes.</summary>
    private static void AppendQuoted(StringBuilder line, ReadOnlySpan<byte> argument)
    {
        line.Append('"');
        foreach (byte b in argument)
        {
            switch (b)
            {
                case (byte)'\\': line.Append("\\\\"); break;
                case (byte)'"': line.Append("\\\""); break;
                case (byte)'\n': line.Append("\\n"); break;
                case (byte)'\r': line.Append("\\r"); break;
                case (byte)'\t': line.Append("\\t"); break;
                case 7: line.Append("\\a"); break;
                case 8: line.Append("\\b"); break;
                default:
                    if (b is >= 32 and < 127)
                    {
                        line.Append((char)b);
                    }
                    else
                    {
                        line.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
                    }

                    break;
            }
        }

        line.Append('"');
    }
}
