using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// A key command's change to a typed key on a cluster node (DEL or UNLINK of a hash, EXPIRE or PERSIST of a set, SET of
/// a counter), built as a delta on a primary of the key: a remove of everything that primary has observed of the key (a
/// concurrent write it has not seen survives, as add-wins says), the key's expiry register stamped anew, or a typed
/// string's register written. Nothing when the key is gone or holds another type by the time the delta is built.
/// </summary>
internal sealed class TypedKeyChange : IKeyDeltaOperation, IForwardableOperation
{
    /// <summary>A string's one element.</summary>
    private static readonly byte[] ValueElement = [];

    private readonly DataType _type;
    private readonly long? _expiresAtUnixMs;
    private readonly byte[]? _value;

    private TypedKeyChange(byte[] key, DataType type, long? expiresAtUnixMs, byte[]? value = null)
    {
        Key = key;
        _type = type;
        _expiresAtUnixMs = expiresAtUnixMs;
        _value = value;
    }

    public byte[] Key { get; }

    public static TypedKeyChange Remove(byte[] key, DataType type) => new(key, type, null);

    /// <summary>A new expiry (0: none, as PERSIST sets it).</summary>
    public static TypedKeyChange Expire(byte[] key, DataType type, long expiresAtUnixMs) => new(key, type, expiresAtUnixMs);

    /// <summary>A typed string's (a counter's) new value and expiry: a register write over the writes its coordinator saw.</summary>
    public static TypedKeyChange AssignString(byte[] key, byte[] value, long expiresAtUnixMs) => new(key, DataType.String, expiresAtUnixMs, value);

    /// <summary>
    /// The command a primary runs for this change: DEL (it removes what that primary has seen), PEXPIREAT or PERSIST, or
    /// SET of a counter's new value (with PXAT when it expires).
    /// </summary>
    public IReadOnlyList<byte[]> CommandArguments()
    {
        if (_value is not null)
        {
            return _expiresAtUnixMs is > 0 and { } expiresAt ? [Ascii("SET"), Key, _value, Ascii("PXAT"), Ascii(expiresAt)] : [Ascii("SET"), Key, _value];
        }

        return _expiresAtUnixMs switch
        {
            null => [Ascii("DEL"), Key],
            0 => [Ascii("PERSIST"), Key],
            { } expiresAt => [Ascii("PEXPIREAT"), Key, Ascii(expiresAt)],
        };
    }

    public KeyDelta? BuildDelta(IStorageTransaction transaction, NodeId actor)
    {
        KeyDeltaBuilder? builder = KeyDeltaBuilder.Open(transaction, Key, _type, actor);
        if (builder is null || builder.Creates)
        {
            return null;
        }

        if (_value is not null)
        {
            builder.Assign(ValueElement, _value);
        }

        if (_expiresAtUnixMs is { } expiresAt)
        {
            if (builder.Expiry != expiresAt)
            {
                builder.SetExpiry(expiresAt);
            }
        }
        else
        {
            builder.RemoveAll();
        }

        return builder.Build();
    }

    public void AfterJoin(IStorageTransaction transaction)
    {
    }

    private static byte[] Ascii(string text) => System.Text.Encoding.ASCII.GetBytes(text);

    private static byte[] Ascii(long number) => Ascii(number.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
