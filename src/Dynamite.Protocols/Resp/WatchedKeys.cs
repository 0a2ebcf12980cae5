using System.IO.Hashing;
using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// The keys a client WATCHes, each with a fingerprint of what the node read for it then: absent, or its record's
/// kind, expiry and bytes (a typed key's header, whose causal context changes with every write of its elements).
/// EXEC reads each key again and commits only if every fingerprint is unchanged. So WATCH detects a change the node
/// coordinating EXEC can read (at its read consistency): a value, type or expiry that differs, a key that appeared,
/// was deleted or expired; a write that stored the very same string again is not a change. It is not a linearizable
/// compare-and-set across coordinators: a write may land between EXEC's check and its commands (README,
/// "Transactions"). Bounded: at most <see cref="MaxKeys"/> keys per client.
/// </summary>
public sealed class WatchedKeys
{
    /// <summary>Most keys one client may watch at once.</summary>
    public const int MaxKeys = 10_000;

    private readonly Dictionary<byte[], ulong> _fingerprints = new(ByteArrayComparer.Instance);

    public int Count => _fingerprints.Count;

    public IEnumerable<byte[]> Keys => _fingerprints.Keys;

    /// <summary>Records a key's fingerprint; a key watched already keeps its first one (as redis-server keeps its first WATCH).</summary>
    public void Add(byte[] key, ulong fingerprint) => _fingerprints.TryAdd(key, fingerprint);

    /// <summary>The fingerprint WATCH read of <paramref name="key"/> (a forwarded EXEC carries them to the node that checks them).</summary>
    public ulong FingerprintOf(byte[] key) => _fingerprints[key];

    /// <summary>True when <paramref name="fingerprint"/>, read now, differs from the one read at WATCH.</summary>
    public bool Changed(byte[] key, ulong fingerprint) => !_fingerprints.TryGetValue(key, out ulong watched) || watched != fingerprint;

    public void Clear() => _fingerprints.Clear();

    /// <summary>What a read found, as one number: 0 for absent, else a hash of the record's kind, expiry and bytes.</summary>
    public static ulong Fingerprint(ReadResult read)
    {
        if (!read.Found)
        {
            return 0;
        }

        var hash = new XxHash64();
        Span<byte> header = stackalloc byte[9];
        header[0] = (byte)read.Record.Kind;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(header[1..], read.Record.ExpiresAtUnixMs);
        hash.Append(header);
        hash.Append(read.Record.Value);
        ulong value = hash.GetCurrentHashAsUInt64();
        return value == 0 ? 1 : value;
    }
}
