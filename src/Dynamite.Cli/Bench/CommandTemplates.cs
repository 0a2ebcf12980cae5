using System.Text;

namespace Dynamite.Cli.Bench;

/// <summary>
/// The RESP bytes of <c>SET key value</c> and <c>GET key</c>, built once; a request is a copy of a template with
/// the key's 12 digits written in place (keys look like redis-benchmark's <c>key:__rand_int__</c>:
/// <c>key:000000012345</c>). Values are <c>x</c> repeated, as redis-benchmark's.
/// </summary>
internal sealed class CommandTemplates
{
    public const int KeyDigits = 12;
    public const string KeyPrefix = "key:";

    public CommandTemplates(int valueSize)
    {
        int keyLength = KeyPrefix.Length + KeyDigits;
        string key = KeyPrefix + new string('0', KeyDigits);
        byte[] setHeader = Encoding.ASCII.GetBytes($"*3\r\n$3\r\nSET\r\n${keyLength}\r\n{key}\r\n${valueSize}\r\n");
        Set = new byte[setHeader.Length + valueSize + 2];
        setHeader.CopyTo(Set, 0);
        Set.AsSpan(setHeader.Length, valueSize).Fill((byte)'x');
        Set[^2] = (byte)'\r';
        Set[^1] = (byte)'\n';
        SetKeyDigitsOffset = setHeader.Length - $"${valueSize}\r\n".Length - 2 - KeyDigits;
        Get = Encoding.ASCII.GetBytes($"*2\r\n$3\r\nGET\r\n${keyLength}\r\n{key}\r\n");
        GetKeyDigitsOffset = Get.Length - 2 - KeyDigits;
    }

    public byte[] Set { get; }

    public int SetKeyDigitsOffset { get; }

    public byte[] Get { get; }

    public int GetKeyDigitsOffset { get; }

    /// <summary>Writes GET (or SET) of key number <paramref name="key"/> at the start of <paramref name="destination"/>; returns the bytes written.</summary>
    public int Write(Span<byte> destination, bool read, long key)
    {
        byte[] template = read ? Get : Set;
        template.CopyTo(destination);
        WriteDigits(destination.Slice(read ? GetKeyDigitsOffset : SetKeyDigitsOffset, KeyDigits), key);
        return template.Length;
    }

    /// <summary>The key's name, e.g. <c>key:000000012345</c>.</summary>
    public static string KeyName(long key)
    {
        Span<byte> digits = stackalloc byte[KeyDigits];
        WriteDigits(digits, key);
        return KeyPrefix + Encoding.ASCII.GetString(digits);
    }

    /// <summary>Writes the key's name (<see cref="KeyName"/>) into <paramref name="name"/>, which holds exactly its bytes.</summary>
    public static void WriteKeyName(Span<byte> name, long key)
    {
        Encoding.ASCII.GetBytes(KeyPrefix, name);
        WriteDigits(name[KeyPrefix.Length..], key);
    }

    private static void WriteDigits(Span<byte> digits, long value)
    {
        for (int i = digits.Length - 1; i >= 0; i--)
        {
            digits[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }
}
