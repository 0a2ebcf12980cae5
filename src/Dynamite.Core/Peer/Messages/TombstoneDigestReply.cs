using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Replica → tombstone collector: the key digest of each requested key, in request order, 0 for a key the
/// replica does not hold (a real digest is never 0). u32 count, then u64 digests.
/// </summary>
public sealed record TombstoneDigestReply(IReadOnlyList<ulong> Digests) : IPeerMessage<TombstoneDigestReply>
{
    public static PeerMessageType MessageType => PeerMessageType.TombstoneDigestReply;

    public PeerMessageType Type => MessageType;

    public int PayloadLength => checked(4 + (8 * Digests.Count));

    public void Write(IBufferWriter<byte> writer)
    {
        PeerPayloadWriter.WriteInt32(writer, Digests.Count);
        foreach (ulong digest in Digests)
        {
            PeerPayloadWriter.WriteUInt64(writer, digest);
        }
    }

    public static TombstoneDigestReply Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        int count = reader.ReadInt32("count");
        if (count < 0 || count > (payload.Length - 4) / 8)
        {
            throw new PeerProtocolException($"{MessageType} payload: field 'count' {count} exceeds what the payload can hold");
        }

        var digests = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            digests[i] = reader.ReadUInt64("digest");
        }

        reader.EnsureEnd();
        return new TombstoneDigestReply(digests);
    }
}
