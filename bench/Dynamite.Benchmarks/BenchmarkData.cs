using System.Text;

namespace Dynamite.Benchmarks;

/// <summary>The realistic inputs every benchmark shares: redis-benchmark's shape (short keys, 100-byte values).</summary>
public static class BenchmarkData
{
    public const int ValueBytes = 100;

    /// <summary>A fixed time, so nothing expires and runs are comparable.</summary>
    public const long NowUnixMs = 1_700_000_000_000;

    public static byte[] Key(int index) => Encoding.ASCII.GetBytes($"key:{index:D12}");

    public static byte[] Value(byte fill = (byte)'x')
    {
        byte[] value = new byte[ValueBytes];
        Array.Fill(value, fill);
        return value;
    }

    /// <summary>A RESP multibulk request, as a client sends it.</summary>
    public static byte[] Request(params byte[][] arguments)
    {
        using var stream = new MemoryStream();
        stream.Write(Encoding.ASCII.GetBytes($"*{arguments.Length}\r\n"));
        foreach (byte[] argument in arguments)
        {
            stream.Write(Encoding.ASCII.GetBytes($"${argument.Length}\r\n"));
            stream.Write(argument);
            stream.Write("\r\n"u8);
        }

        return stream.ToArray();
    }

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);
}
