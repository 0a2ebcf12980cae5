namespace Dynamite.Core.DataTypes;

/// <summary>
/// The Redis type a key holds (docs/DATA-TYPES.md). The numbers are stored and sent between nodes: pinned, never
/// reused. A counter is a <see cref="String"/> whose element carries counter writes, as in Redis.
/// </summary>
public enum DataType : byte
{
#pragma warning disable CA1720 // Redis names this type "string"; any other name would hide that.
    String = 1,
#pragma warning restore CA1720
    Hash = 2,
    Set = 3,
    SortedSet = 4,
    List = 5,
}

/// <summary>Redis's names for <see cref="DataType"/> (the <c>TYPE</c> reply).</summary>
public static class DataTypeNames
{
    public static string RedisName(this DataType type) => type switch
    {
        DataType.String => "string",
        DataType.Hash => "hash",
        DataType.Set => "set",
        DataType.SortedSet => "zset",
        DataType.List => "list",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a data type"),
    };

    /// <summary>True for a value a peer or a file may carry.</summary>
    public static bool IsDefined(byte value) => value is (byte)DataType.String or (byte)DataType.Hash or (byte)DataType.Set or (byte)DataType.SortedSet or (byte)DataType.List;
}
