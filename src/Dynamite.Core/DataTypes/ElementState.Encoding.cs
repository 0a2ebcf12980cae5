using System.Buffers;
using Dynamite.Core.Versioning;
using Dynamite.Core.Wire;

namespace Dynamite.Core.DataTypes;

/// <summary>The binary form of an <see cref="ElementState"/>, as stored and sent to replicas (see the class summary).</summary>
public sealed partial class ElementState
{
    private const byte PresenceKind = 0;
    private const byte RegisterKind = 1;
    private const byte CounterKind = 2;

    /// <summary>Smallest write on the wire: id length, one-byte id, counter, timestamp, kind.</summary>
    private const int MinWriteBytes = 5;

    /// <summary>Smallest totals on the wire: a dot (3), two varints, the float byte.</summary>
    private const int MinTotalsBytes = 6;

    /// <summary>The exact number of bytes <see cref="Write"/> produces.</summary>
    public int GetEncodedLength()
    {
        int size = 1 + WireWriter.SizeOfVarUInt64((ulong)_writes.Length) + WireWriter.SizeOfVarUInt64((ulong)_resets.Length);
        foreach (ElementWrite write in _writes)
        {
            size += DotWire.SizeOf(write.Dot) + WireWriter.SizeOfVarInt64(write.TimestampUnixMs) + 1;
            if (write.Value is not null)
            {
                size += WireWriter.SizeOfVarUInt64((ulong)write.Value.Length) + write.Value.Length;
            }
            else if (write.Counter is { } totals)
            {
                size += totals.GetEncodedLength();
            }
        }

        foreach (CounterTotals reset in _resets)
        {
            size += reset.GetEncodedLength();
        }

        return size;
    }

    public void Write(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int length = GetEncodedLength();
        WriteTo(output.GetSpan(length));
        output.Advance(length);
    }

    /// <summary>The encoding in an array of exactly its length.</summary>
    public byte[] Encode()
    {
        byte[] bytes = new byte[GetEncodedLength()];
        WriteTo(bytes);
        return bytes;
    }

    private void WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteByte(FormatVersion);
        writer.WriteVarUInt64((ulong)_writes.Length);
        foreach (ElementWrite write in _writes)
        {
            DotWire.Write(ref writer, write.Dot);
            writer.WriteVarInt64(write.TimestampUnixMs);
            if (write.Value is not null)
            {
                writer.WriteByte(RegisterKind);
                writer.WriteVarUInt64((ulong)write.Value.Length);
                writer.WriteBytes(write.Value);
            }
            else if (write.Counter is { } totals)
            {
                writer.WriteByte(CounterKind);
                totals.WriteTo(ref writer);
            }
            else
            {
                writer.WriteByte(PresenceKind);
            }
        }

        writer.WriteVarUInt64((ulong)_resets.Length);
        foreach (CounterTotals reset in _resets)
        {
            reset.WriteTo(ref writer);
        }
    }

    /// <summary>Reads a whole encoded state; malformed, non-canonical or trailing input is a <see cref="FormatException"/>.</summary>
    public static ElementState Decode(ReadOnlySpan<byte> source)
    {
        var reader = new WireReader(source);
        byte version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw new FormatException($"Element state format {version} is not supported (expected {FormatVersion}).");
        }

        int count = reader.ReadCount(reader.Remaining / MinWriteBytes, "Element write count");
        var writes = new ElementWrite[count];
        for (int i = 0; i < count; i++)
        {
            int offset = reader.Position;
            Dot dot = DotWire.Read(ref reader);
            if (i > 0 && writes[i - 1].Dot.CompareTo(dot) >= 0)
            {
                throw new FormatException($"Element writes are not sorted by dot at offset {offset}.");
            }

            long timestamp = reader.ReadVarInt64();
            byte kind = reader.ReadByte();
            writes[i] = kind switch
            {
                PresenceKind => new ElementWrite(dot, timestamp, null),
                RegisterKind => new ElementWrite(dot, timestamp, reader.ReadBytes(reader.ReadCount(reader.Remaining, "Element value length")).ToArray()),
                CounterKind => new ElementWrite(dot, timestamp, null, CounterTotals.ReadFrom(ref reader)),
                _ => throw new FormatException($"Unknown element write kind {kind} at offset {offset}."),
            };
        }

        int resetCount = reader.ReadCount(reader.Remaining / MinTotalsBytes, "Element reset count");
        var resets = new CounterTotals[resetCount];
        for (int i = 0; i < resetCount; i++)
        {
            int offset = reader.Position;
            resets[i] = CounterTotals.ReadFrom(ref reader);
            if (i > 0 && resets[i - 1].Chain.CompareTo(resets[i].Chain) >= 0)
            {
                throw new FormatException($"Element resets are not sorted by chain at offset {offset}.");
            }
        }

        reader.ExpectEnd();
        return count == 0 && resetCount == 0 ? Empty : new ElementState(writes, resets);
    }
}
