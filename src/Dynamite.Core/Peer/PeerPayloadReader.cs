using System.Buffers.Binary;
using System.Text;

namespace Dynamite.Core.Peer;

/// <summary>
/// Reads the fields of one payload, checking every length against what remains and against its limit, so
/// that garbage always ends in a <see cref="PeerProtocolException"/> naming the message and field, never in an
/// IndexOutOfRangeException or a huge allocation. Field encodings match <see cref="PeerPayloadWriter"/>.
/// </summary>
public ref struct PeerPayloadReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Names the message in error messages.</summary>
    private readonly PeerMessageType _message;

    /// <summary>Invariant: the bytes not yet read; shrinks from the front.</summary>
    private ReadOnlySpan<byte> _remaining;

    public PeerPayloadReader(ReadOnlySpan<byte> payload, PeerMessageType message)
    {
        _remaining = payload;
        _message = message;
    }

    public byte ReadByte(string field)
    {
        ReadOnlySpan<byte> bytes = Take(1, field);
        return bytes[0];
    }

    public ushort ReadUInt16(string field) => BinaryPrimitives.ReadUInt16BigEndian(Take(2, field));

    public int ReadInt32(string field) => BinaryPrimitives.ReadInt32BigEndian(Take(4, field));

    public ulong ReadUInt64(string field) => BinaryPrimitives.ReadUInt64BigEndian(Take(8, field));

    public long ReadInt64(string field) => BinaryPrimitives.ReadInt64BigEndian(Take(8, field));

    /// <summary>A u16 length, then that many bytes of valid UTF-8.</summary>
    public string ReadString(string field, int maxBytes)
    {
        int length = ReadUInt16(field);
        if (length > maxBytes)
        {
            throw Malformed(field, $"length {length} exceeds its limit of {maxBytes} bytes");
        }

        ReadOnlySpan<byte> bytes = Take(length, field);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException exception)
        {
            throw new PeerProtocolException($"{_message} payload: field '{field}' is not valid UTF-8", exception);
        }
    }

    /// <summary>A u32 length, then that many bytes, copied out (the input buffer is reused once read).</summary>
    public byte[] ReadBytes(string field, int maxBytes)
    {
        uint length = BinaryPrimitives.ReadUInt32BigEndian(Take(4, field));
        if (length > (uint)maxBytes)
        {
            throw Malformed(field, $"length {length} exceeds its limit of {maxBytes} bytes");
        }

        return Take((int)length, field).ToArray();
    }

    /// <summary>Exactly <paramref name="length"/> bytes with no length prefix (nonces, proofs).</summary>
    public byte[] ReadFixed(string field, int length) => Take(length, field).ToArray();

    /// <summary>Every payload is read to its end: trailing bytes mean the sender and we disagree on the layout.</summary>
    public readonly void EnsureEnd()
    {
        if (!_remaining.IsEmpty)
        {
            throw new PeerProtocolException($"{_message} payload: {_remaining.Length} unexpected trailing bytes");
        }
    }

    private ReadOnlySpan<byte> Take(int length, string field)
    {
        if (_remaining.Length < length)
        {
            throw Malformed(field, $"needs {length} bytes but only {_remaining.Length} remain");
        }

        ReadOnlySpan<byte> taken = _remaining[..length];
        _remaining = _remaining[length..];
        return taken;
    }

    private readonly PeerProtocolException Malformed(string field, string detail) =>
        new($"{_message} payload: field '{field}' {detail}");
}
