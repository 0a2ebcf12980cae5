using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Dynamite.IntegrationTests.Infrastructure;

/// <summary>
/// A minimal RESP client that shows replies exactly as the server sent them (RESP2 and RESP3 types),
/// and can send malformed bytes. Every read has a timeout.
/// </summary>
internal sealed class RawRespClient : IDisposable
{
    private static readonly Encoding Latin1 = Encoding.Latin1;
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly BufferedStream _input;

    private RawRespClient(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        _input = new BufferedStream(_stream, 64 * 1024);
    }

    public static RawRespClient Connect(int port, int timeoutMs = 15000)
    {
        var client = new TcpClient { NoDelay = true, ReceiveTimeout = timeoutMs, SendTimeout = timeoutMs };
        client.Connect("127.0.0.1", port);
        return new RawRespClient(client);
    }

    /// <summary>
    /// Connects to any address (a node in a network namespace); the connect itself is bounded too, because a
    /// SYN into a lossy or partitioned network is retried by the kernel for minutes.
    /// </summary>
    public static RawRespClient Connect(string host, int port, int timeoutMs)
    {
        var client = new TcpClient { NoDelay = true, ReceiveTimeout = timeoutMs, SendTimeout = timeoutMs };
        try
        {
            using var cts = new CancellationTokenSource(timeoutMs);
            client.ConnectAsync(host, port, cts.Token).AsTask().GetAwaiter().GetResult();
            return new RawRespClient(client);
        }
        catch (OperationCanceledException)
        {
            client.Dispose();
            throw new IOException($"connect to {host}:{port} timed out after {timeoutMs} ms");
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Sends one command as a multibulk array; arguments are Latin-1 so any byte can be expressed.</summary>
    public RespValue Call(params string[] arguments)
    {
        Send(arguments);
        return Read();
    }

    public void Send(params string[] arguments) => SendRaw(Encode(arguments));

    public static byte[] Encode(params string[] arguments)
    {
        var builder = new StringBuilder();
        builder.Append('*').Append(arguments.Length).Append("\r\n");
        foreach (string argument in arguments)
        {
            builder.Append('$').Append(Latin1.GetByteCount(argument)).Append("\r\n").Append(argument).Append("\r\n");
        }

        return Latin1.GetBytes(builder.ToString());
    }

    public void SendRaw(byte[] bytes) => _stream.Write(bytes);

    public void SendRaw(string text) => SendRaw(Latin1.GetBytes(text));

    /// <summary>Reads one reply; throws <see cref="EndOfStreamException"/> when the server closed the connection.</summary>
    public RespValue Read()
    {
        string line = ReadLine();
        char type = line[0];
        string rest = line[1..];
        switch (type)
        {
            case '+':
            case '-':
            case ':':
            case ',':
            case '#':
            case '(':
                return new RespValue(type, rest, null);
            case '_':
                return new RespValue('_', null, null);
            case '$':
            case '=':
            {
                int length = int.Parse(rest, CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return new RespValue(type, null, null);
                }

                byte[] data = ReadExactly(length + 2);
                return new RespValue(type, Latin1.GetString(data, 0, length), null);
            }

            case '*':
            case '%':
            case '~':
            case '>':
            {
                int count = int.Parse(rest, CultureInfo.InvariantCulture);
                if (count < 0)
                {
                    return new RespValue(type, null, null);
                }

                int elements = type == '%' ? count * 2 : count;
                var items = new List<RespValue>(elements);
                for (int i = 0; i < elements; i++)
                {
                    items.Add(Read());
                }

                return new RespValue(type, null, items);
            }

            default:
                throw new InvalidDataException($"Unexpected reply line '{line}'");
        }
    }

    /// <summary>True when the server has closed the connection (a read returns end of stream within the timeout).</summary>
    public bool IsClosedByServer(int timeoutMs = 5000)
    {
        _client.ReceiveTimeout = timeoutMs;
        try
        {
            return _input.ReadByte() == -1;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>
    /// True when the server closed the connection, after reading and dropping whatever it had sent before (at most
    /// <paramref name="maxBytes"/>); false when it is still open after <paramref name="timeoutMs"/> without data.
    /// </summary>
    public bool IsClosedByServerAfterDraining(int timeoutMs = 5000, long maxBytes = 512L * 1024 * 1024)
    {
        _client.ReceiveTimeout = timeoutMs;
        var buffer = new byte[64 * 1024];
        try
        {
            for (long drained = 0; drained < maxBytes;)
            {
                int read = _input.Read(buffer, 0, buffer.Length);
                if (read == 0)
                {
                    return true;
                }

                drained += read;
            }

            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private string ReadLine()
    {
        var builder = new StringBuilder();
        while (true)
        {
            int b = _input.ReadByte();
            if (b == -1)
            {
                throw new EndOfStreamException("The server closed the connection.");
            }

            if (b == '\r')
            {
                if (_input.ReadByte() != '\n')
                {
                    throw new InvalidDataException("CR without LF");
                }

                return builder.ToString();
            }

            builder.Append((char)b);
        }
    }

    private byte[] ReadExactly(int count)
    {
        byte[] data = new byte[count];
        _input.ReadExactly(data);
        return data;
    }

    public void Dispose()
    {
        _input.Dispose();
        _client.Dispose();
    }
}
