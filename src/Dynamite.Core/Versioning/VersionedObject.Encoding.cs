using Dynamite.Core.Wire;

namespace Dynamite.Core.Versioning;

/// <summary>The binary form of a <see cref="VersionedObject"/> (see the class summary), written and read.</summary>
public sealed partial class VersionedObject
{
    public byte[] Encode()
    {
        ReadOnlySpan<VersionVectorEntry> entries = Context.Entries;
        int size = 1 + Context.GetEncodedLength() + WireWriter.SizeOfVarUInt64((ulong)_siblings.Length);
        foreach (Sibling sibling in _siblings)
        {
            size += WireWriter.SizeOfVarUInt64((ulong)IndexInContext(entries, sibling.Dot.Node))
                + WireWriter.SizeOfVarUInt64((ulong)sibling.Dot.Counter)
                + 1
                + WireWriter.SizeOfVarInt64(sibling.TimestampUnixMs);
            if (sibling.HasExpiry)
            {
                size += WireWriter.SizeOfVarInt64(sibling.ExpiresAtUnixMs);
            }

            if (sibling.Value is not null)
            {
                size += WireWriter.SizeOfVarUInt64((ulong)sibling.Value.Length) + sibling.Value.Length;
            }

            if (sibling.BitPatches is not null)
            {
                size += WireWriter.SizeOfVarUInt64((ulong)sibling.BitPatches.Length) + sibling.BitPatches.Length;
            }
        }

        byte[] output = new byte[size];
        var writer = new WireWriter(output);
        writer.WriteByte(FormatVersion);
        Context.WriteTo(ref writer);
        writer.WriteVarUInt64((ulong)_siblings.Length);
        foreach (Sibling sibling in _siblings)
        {
            writer.WriteVarUInt64((ulong)IndexInContext(entries, sibling.Dot.Node));
            writer.WriteVarUInt64((ulong)sibling.Dot.Counter);
            writer.WriteByte((byte)((sibling.Value is null ? 0 : HasValueFlag) | (sibling.HasExpiry ? HasExpiryFlag : 0) | (sibling.BitPatches is null ? 0 : HasBitPatchesFlag)));
            writer.WriteVarInt64(sibling.TimestampUnixMs);
            if (sibling.HasExpiry)
            {
                writer.WriteVarInt64(sibling.ExpiresAtUnixMs);
            }

            if (sibling.Value is not null)
            {
                writer.WriteVarUInt64((ulong)sibling.Value.Length);
                writer.WriteBytes(sibling.Value);
            }

            if (sibling.BitPatches is not null)
            {
                writer.WriteVarUInt64((ulong)sibling.BitPatches.Length);
                writer.WriteBytes(sibling.BitPatches);
            }
        }

        return output;
    }

    /// <summary>Decodes <see cref="Encode"/>'s output; throws <see cref="FormatException"/> on anything else.</summary>
    public static VersionedObject Decode(ReadOnlySpan<byte> encoded)
    {
        var reader = new WireReader(encoded);
        byte version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw new FormatException($"Unknown versioned object format {version}; this node reads format {FormatVersion}.");
        }

        VersionVector context = VersionVector.ReadFrom(ref reader);
        ReadOnlySpan<VersionVectorEntry> entries = context.Entries;
        int count = reader.ReadCount(reader.Remaining / MinSiblingBytes, "Sibling count");
        if (count > 0 && entries.Length == 0)
        {
            throw new FormatException("Siblings without a context: no context covers their dots.");
        }

        var siblings = new Sibling[count];
        for (int i = 0; i < count; i++)
        {
            int offset = reader.Position;
            int nodeIndex = reader.ReadCount(entries.Length - 1, "Sibling node index");

            ulong counter = reader.ReadVarUInt64();
            if (counter == 0 || counter > (ulong)entries[nodeIndex].Counter)
            {
                throw new FormatException($"Sibling at offset {offset} has counter {counter}, which its context does not cover.");
            }

            var dot = new Dot(entries[nodeIndex].Node, (long)counter);
            if (i > 0 && siblings[i - 1].Dot.CompareTo(dot) >= 0)
            {
                throw new FormatException($"Siblings are not sorted by dot at offset {offset}.");
            }

            byte flags = reader.ReadByte();
            if ((flags & ~(HasValueFlag | HasExpiryFlag | HasBitPatchesFlag)) != 0)
            {
                throw new FormatException($"Sibling at offset {offset} has unknown flags 0x{flags:X2}.");
            }

            long timestamp = reader.ReadVarInt64();
            long expiresAt = 0;
            if ((flags & HasExpiryFlag) != 0)
            {
                expiresAt = reader.ReadVarInt64();
                if (expiresAt == 0)
                {
                    throw new FormatException($"Sibling at offset {offset} is flagged with an expiry of 0.");
                }
            }

            byte[]? value = null;
            if ((flags & HasValueFlag) != 0)
            {
                int length = reader.ReadCount(reader.Remaining, "Value length");
                value = reader.ReadBytes(length).ToArray();
            }

            byte[]? bitPatches = null;
            if ((flags & HasBitPatchesFlag) != 0)
            {
                if (value is null)
                {
                    throw new FormatException($"Sibling at offset {offset} is a tombstone with bit patches.");
                }

                int length = reader.ReadCount(reader.Remaining, "Bit patches length");
                bitPatches = reader.ReadBytes(length).ToArray();
            }

            siblings[i] = new Sibling(dot, value, timestamp, expiresAt) { BitPatches = bitPatches };
        }

        reader.ExpectEnd();
        return count == 0 && context.IsEmpty ? Empty : new VersionedObject(context, siblings);
    }
}
