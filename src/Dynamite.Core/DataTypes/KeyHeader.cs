using Dynamite.Core.Wire;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// The replicated key-level state of a typed key (docs/DATA-TYPES.md), stored under the key itself beside its
/// elements: which type it holds, its causal context, its expiry, and the time before which its writes are dead.
/// Every part is a join-semilattice, so <see cref="Join"/> is commutative, associative and idempotent:
/// <list type="bullet">
/// <item>the type is a register: the creating write that wins last-writer-wins (timestamp, then dot) decides it, so
/// concurrent creations of different types end the same on every replica (the loser's elements are dropped);</item>
/// <item>the context is the union of what both sides saw;</item>
/// <item>the expiry is a last-writer-wins register (<c>EXPIRE</c>, <c>PERSIST</c>, <c>SET ... EX</c>);</item>
/// <item><see cref="DeadBeforeUnixMs"/> only grows: a write into a key that had expired raises it to the old
/// expiry, so writes made before the expiry stay dead on every replica, whatever the expiry says later.</item>
/// </list>
/// Immutable. Binary form: format byte (1), type byte, creation timestamp (zigzag) and dot, context
/// (<see cref="DotContext"/>), expiry time, its timestamp and dot (an absent dot: actor length 0), dead-before time.
/// </summary>
public sealed class KeyHeader : IEquatable<KeyHeader>
{
    public const byte FormatVersion = 1;

    public KeyHeader(DataType type, Stamp created, DotContext context, long expiresAtUnixMs, Stamp expirySet, long deadBeforeUnixMs)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!DataTypeNames.IsDefined((byte)type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "not a data type");
        }

        Type = type;
        Created = created;
        Context = context;
        ExpiresAtUnixMs = expiresAtUnixMs;
        ExpirySet = expirySet;
        DeadBeforeUnixMs = deadBeforeUnixMs;
    }

    public DataType Type { get; }

    /// <summary>The write that created the key as <see cref="Type"/>.</summary>
    public Stamp Created { get; }

    public DotContext Context { get; }

    /// <summary>Absolute expiry in Unix milliseconds; 0: none.</summary>
    public long ExpiresAtUnixMs { get; }

    /// <summary>The write that set <see cref="ExpiresAtUnixMs"/> (<see cref="Stamp.None"/> if none ever did).</summary>
    public Stamp ExpirySet { get; }

    /// <summary>Element writes stamped before this time are dead (the key expired after them); 0: none.</summary>
    public long DeadBeforeUnixMs { get; }

    /// <summary>A new key of <paramref name="type"/>, created by the write stamped <paramref name="created"/>.</summary>
    public static KeyHeader Create(DataType type, Stamp created) => new(type, created, DotContext.Empty, 0, Stamp.None, 0);

    /// <summary>True when a write stamped <paramref name="timestampUnixMs"/> no longer counts at <paramref name="nowUnixMs"/>.</summary>
    public bool IsDeadAt(long timestampUnixMs, long nowUnixMs) =>
        timestampUnixMs < DeadBeforeUnixMs || (ExpiresAtUnixMs != 0 && ExpiresAtUnixMs <= nowUnixMs && timestampUnixMs < ExpiresAtUnixMs);

    /// <summary>True when the key has expired at <paramref name="nowUnixMs"/> (Redis: expired when now &gt;= expiry).</summary>
    public bool IsExpiredAt(long nowUnixMs) => ExpiresAtUnixMs != 0 && ExpiresAtUnixMs <= nowUnixMs;

    public KeyHeader WithContext(DotContext context) => new(Type, Created, context, ExpiresAtUnixMs, ExpirySet, DeadBeforeUnixMs);

    public KeyHeader WithExpiry(long expiresAtUnixMs, Stamp set) => new(Type, Created, Context, expiresAtUnixMs, set, DeadBeforeUnixMs);

    public KeyHeader WithDeadBefore(long deadBeforeUnixMs) => new(Type, Created, Context, ExpiresAtUnixMs, ExpirySet, Math.Max(DeadBeforeUnixMs, deadBeforeUnixMs));

    /// <summary>The join of two replicas' headers of one key (see the class summary).</summary>
    public static KeyHeader Join(KeyHeader x, KeyHeader y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (ReferenceEquals(x, y))
        {
            return x;
        }

        KeyHeader typeWinner = y.Created.IsLaterThan(x.Created) ? y : x;
        KeyHeader expiryWinner = y.ExpirySet.IsLaterThan(x.ExpirySet) ? y : x;
        var joined = new KeyHeader(
            typeWinner.Type,
            typeWinner.Created,
            x.Context.Union(y.Context),
            expiryWinner.ExpiresAtUnixMs,
            expiryWinner.ExpirySet,
            Math.Max(x.DeadBeforeUnixMs, y.DeadBeforeUnixMs));
        return joined.Equals(x) ? x : joined;
    }

    public byte[] Encode()
    {
        int length = 1 + 1 + Created.GetEncodedLength() + Context.GetEncodedLength() + WireWriter.SizeOfVarInt64(ExpiresAtUnixMs)
            + ExpirySet.GetEncodedLength() + WireWriter.SizeOfVarInt64(DeadBeforeUnixMs);
        byte[] bytes = new byte[length];
        var writer = new WireWriter(bytes);
        writer.WriteByte(FormatVersion);
        writer.WriteByte((byte)Type);
        Created.WriteTo(ref writer);
        Context.WriteTo(ref writer);
        writer.WriteVarInt64(ExpiresAtUnixMs);
        ExpirySet.WriteTo(ref writer);
        writer.WriteVarInt64(DeadBeforeUnixMs);
        return bytes;
    }

    /// <summary>Reads a whole encoded header; malformed or trailing input is a <see cref="FormatException"/>.</summary>
    public static KeyHeader Decode(ReadOnlySpan<byte> source)
    {
        var reader = new WireReader(source);
        byte version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw new FormatException($"Key header format {version} is not supported (expected {FormatVersion}).");
        }

        byte type = reader.ReadByte();
        if (!DataTypeNames.IsDefined(type))
        {
            throw new FormatException($"Data type {type} at offset 1 is not known.");
        }

        Stamp created = Stamp.ReadFrom(ref reader);
        DotContext context = DotContext.ReadFrom(ref reader);
        long expiresAt = reader.ReadVarInt64();
        Stamp expirySet = Stamp.ReadFrom(ref reader);
        long deadBefore = reader.ReadVarInt64();
        reader.ExpectEnd();
        return new KeyHeader((DataType)type, created, context, expiresAt, expirySet, deadBefore);
    }

    public bool Equals(KeyHeader? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Type == other.Type && Created == other.Created && Context.Equals(other.Context) && ExpiresAtUnixMs == other.ExpiresAtUnixMs
                && ExpirySet == other.ExpirySet && DeadBeforeUnixMs == other.DeadBeforeUnixMs));

    public override bool Equals(object? obj) => Equals(obj as KeyHeader);

    public override int GetHashCode() => HashCode.Combine(Type, Created, Context, ExpiresAtUnixMs, ExpirySet, DeadBeforeUnixMs);

    public override string ToString() =>
        $"{Type.RedisName()} created {Created}, context {Context}{(ExpiresAtUnixMs == 0 ? string.Empty : $", expires {ExpiresAtUnixMs} (set {ExpirySet})")}{(DeadBeforeUnixMs == 0 ? string.Empty : $", dead before {DeadBeforeUnixMs}")}";
}
