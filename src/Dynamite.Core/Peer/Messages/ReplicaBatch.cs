using System.Buffers;

namespace Dynamite.Core.Peer.Messages;

/// <summary>
/// Coordinator → replica: the changes of one transaction to keys of one partition, which the replica applies in one
/// storage operation, all or none (a MULTI/EXEC on a cluster: one replica message per replica). Each entry is a
/// <see cref="ReplicaPut"/>'s object or a <see cref="ReplicaDelta"/>'s delta, applied in order. Answered by a
/// <see cref="ReplicaPutAck"/> once all are stored. Layout: i32 count, then per entry a kind byte
/// (<see cref="ReplicaBatchEntryKind"/>), the key and the encoded object or delta.
/// </summary>
public sealed record ReplicaBatch(IReadOnlyList<ReplicaBatchEntry> Entries) : IPeerMessage<ReplicaBatch>
{
    /// <summary>The most entries one batch carries (a transaction's staged changes are bounded alike).</summary>
    public const int MaxEntries = 100_000;

    public static PeerMessageType MessageType => PeerMessageType.ReplicaBatch;

    public PeerMessageType Type => MessageType;

    public int PayloadLength
    {
        get
        {
            if (Entries.Count is 0 or > MaxEntries)
            {
                // Checked before a send is accepted, so that the write loop never meets a batch it cannot write.
                throw new ArgumentException($"a replica batch carries 1 to {MaxEntries} entries, not {Entries.Count}");
            }

            long length = 4;
            foreach (ReplicaBatchEntry entry in Entries)
            {
                length += 1
                    + PeerPayloadWriter.BytesSize(entry.Key, PeerLimits.MaxKeyBytes, "key")
                    + PeerPayloadWriter.BytesSize(entry.Encoded, PeerLimits.MaxObjectBytes, "change");
            }

            // The whole batch must fit one frame, as one object must.
            return length <= PeerLimits.MaxObjectBytes
                ? (int)length
                : throw new ArgumentException($"a replica batch of {length} bytes is over the {PeerLimits.MaxObjectBytes}-byte limit of one message");
        }
    }

    public void Write(IBufferWriter<byte> writer)
    {
        if (Entries.Count is 0 or > MaxEntries)
        {
            throw new ArgumentException($"a replica batch carries 1 to {MaxEntries} entries, not {Entries.Count}");
        }

        PeerPayloadWriter.WriteInt32(writer, Entries.Count);
        foreach (ReplicaBatchEntry entry in Entries)
        {
            PeerPayloadWriter.WriteByte(writer, (byte)entry.Kind);
            PeerPayloadWriter.WriteBytes(writer, entry.Key.Span, PeerLimits.MaxKeyBytes, "key");
            PeerPayloadWriter.WriteBytes(writer, entry.Encoded.Span, PeerLimits.MaxObjectBytes, "change");
        }
    }

    public override string ToString() => $"{nameof(ReplicaBatch)} {{ {Entries.Count} entries }}";

    public static ReplicaBatch Read(ReadOnlySpan<byte> payload)
    {
        var reader = new PeerPayloadReader(payload, MessageType);
        int count = reader.ReadInt32("entry count");
        // Each entry takes at least a kind byte and two 4-byte lengths.
        if (count < 1 || count > MaxEntries || count > (payload.Length - 4) / 9)
        {
            throw new PeerProtocolException($"{MessageType} payload: {count} entries (1 to {MaxEntries}, and what the payload can hold)");
        }

        var entries = new ReplicaBatchEntry[count];
        for (int i = 0; i < count; i++)
        {
            byte kind = reader.ReadByte("kind");
            if (kind > (byte)ReplicaBatchEntryKind.Delta)
            {
                throw new PeerProtocolException($"{MessageType} payload: entry kind {kind} is not 0 (object) or 1 (delta)");
            }

            byte[] key = reader.ReadBytes("key", PeerLimits.MaxKeyBytes);
            byte[] change = reader.ReadBytes("change", PeerLimits.MaxObjectBytes);
            entries[i] = new ReplicaBatchEntry((ReplicaBatchEntryKind)kind, key, change);
        }

        reader.EnsureEnd();
        return new ReplicaBatch(entries);
    }
}

/// <summary>What a <see cref="ReplicaBatch"/> entry carries. Pinned: the byte is on the wire.</summary>
public enum ReplicaBatchEntryKind : byte
{
    /// <summary>An encoded versioned object, merged as a <see cref="ReplicaPut"/>'s.</summary>
    VersionedObject = 0,

    /// <summary>An encoded typed key's change, joined as a <see cref="ReplicaDelta"/>'s.</summary>
    Delta = 1,
}

/// <summary>One change of a <see cref="ReplicaBatch"/>.</summary>
public readonly record struct ReplicaBatchEntry(ReplicaBatchEntryKind Kind, ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Encoded);
