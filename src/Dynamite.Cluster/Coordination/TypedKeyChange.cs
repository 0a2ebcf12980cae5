using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// A key command's change to a typed key on a cluster node (DEL or UNLINK of a hash, EXPIRE or PERSIST of a set), built
/// as a delta on a primary of the key: a remove of everything that primary has observed of the key (a concurrent write
/// it has not seen survives, as add-wins says), or the key's expiry register stamped anew. Nothing when the key is gone
/// or holds another type by the time the delta is built.
/// </summary>
internal sealed class TypedKeyChange : IKeyDeltaOperation
{
    private readonly DataType _type;
    private readonly long? _expiresAtUnixMs;

    private TypedKeyChange(byte[] key, DataType type, long? expiresAtUnixMs)
    {
        Key = key;
        _type = type;
        _expiresAtUnixMs = expiresAtUnixMs;
    }

    public byte[] Key { get; }

    public static TypedKeyChange Remove(byte[] key, DataType type) => new(key, type, null);

    /// <summary>A new expiry (0: none, as PERSIST sets it).</summary>
    public static TypedKeyChange Expire(byte[] key, DataType type, long expiresAtUnixMs) => new(key, type, expiresAtUnixMs);

    public KeyDelta? BuildDelta(IStorageTransaction transaction, NodeId actor)
    {
        KeyDeltaBuilder? builder = KeyDeltaBuilder.Open(transaction, Key, _type, actor);
        if (builder is null || builder.Creates)
        {
            return null;
        }

        if (_expiresAtUnixMs is { } expiresAt)
        {
            builder.SetExpiry(expiresAt);
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
}
